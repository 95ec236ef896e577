/**
 * gossip/: gossip protocols built on adhoc/ — anonymous gossip over MAODV today; bimodal multicast
 * and gravitational gossip arrive with issue 7.
 */
export * as anonymous from './anonymous/index.ts'
export { AnonymousGossip, validateMaodvAgConfig, type MaodvAgConfig } from './anonymous/index.ts'
