// Public API of runtime/ (see README.md).
export { UdpDatagrams, type UdpDatagramsOptions } from './udp-datagrams.ts'
