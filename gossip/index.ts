/**
 * gossip/: gossip protocols built on adhoc/ — anonymous gossip over MAODV, bimodal multicast
 * (pbcast), gravitational gossip, and sensor feeds on top of them.
 */
export * as anonymous from './anonymous/index.ts'
export { AnonymousGossip, validateMaodvAgConfig, type MaodvAgConfig } from './anonymous/index.ts'
export { Pbcast, type PbcastOptions, type PbcastLoad } from './pbcast/pbcast.ts'
export { PbcastProtocol } from './pbcast/pbcast-protocol.ts'
export { validatePbcastConfig, DEFAULT_PBCAST_CONFIG, type PbcastConfig } from './pbcast/pbcast-defaults.ts'
export { PlainAudience } from './pbcast/view.ts'
export { SimIpNetwork } from './pbcast/sim-ip.ts'
export { AodvDatagrams } from './pbcast/aodv-datagrams.ts'
export { deliveryDistribution, totalVariation, bimodality } from './pbcast/analysis.ts'
export type { Audience, Datagrams, MessageId, MessageMeta, PbcastDelivery, RoundTarget } from './pbcast/pbcast-types.ts'
export { GravitationalAudience, validateAudienceConfig, type Subscription, type Publication } from './gravitational/audience.ts'
export { gossipParameters } from './gravitational/params.ts'
export { PmuGenerator } from './feeds/pmu.ts'
export { encodeSampleBody, decodeSampleBody, sampleFromMessage, PMU_SCHEMA, type FeedSample } from './feeds/sample.ts'
