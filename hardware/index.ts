/**
 * hardware/: the Radio contract and its implementations (DESIGN.md §1, §3), airtime and the
 * duty-cycle budget, and the simulated medium (placement, mobility, propagation, collisions).
 */
export * from './radio.ts'
export { airtimeMs } from './airtime.ts'
export { checkFrame } from './check-frame.ts'
export { MockMedium, MockRadio, type MockMediumOptions, type MockRadioOptions } from './mock-radio.ts'
export { radioContract, type RadioPair } from './radio-contract.ts'
export {
  DEFAULT_CSMA,
  DEFAULT_SIM_RADIO,
  LORA_SIM_RADIO,
  DECODE_FLOOR,
  SENSE_MARGIN_DB,
  SHADOWING_CUTOFF_SIGMAS,
  SIM_RADIO_LIMITS,
  SPEED_OF_LIGHT_M_PER_MS,
  resolveSimRadioConfig,
  validateSimRadioConfig,
  type CsmaConfig,
  type SimRadioConfig,
} from './sim-defaults.ts'
export {
  pathLossDb,
  meanRxPowerDbm,
  distanceForPowerDbm,
  sensitivityDbm,
  decodeProbability,
  propagationDelayMs,
  dbmToMw,
  mwToDbm,
} from './propagation.ts'
export {
  StaticMobility,
  RandomWaypoint,
  ScriptedWaypoints,
  type Mobility,
  type Position,
  type RandomWaypointOptions,
  type Leg,
  type Waypoint,
} from './mobility.ts'
export { placeGrid, placeUniform } from './placement.ts'
export { DutyCycleBudget } from './duty-cycle.ts'
export { SimMedium, type SimMediumOptions } from './sim-medium.ts'
export { LinkShadowing, linkNormal, SHADOWING_IDLE_MS, SHADOWING_MAX_NODES } from './shadowing.ts'
export { TIME_EPS_MS } from './reception.ts'
export { SimRadio, MEDIUM_COUNTERS, type MediumCounterName } from './sim-radio.ts'
export { listSerialPorts, findPort, type PortInfo, type PortMatch } from './serial-ports.ts'
export { SerialLink, openSerialPort, type SerialLinkOptions } from './serial-link.ts'
export { SerialRadio, type SerialRadioOptions, type SerialFraming } from './serial-radio.ts'
export { cobsFraming, kissFraming } from './serial-framing.ts'
export { UdpRadio, DatagramRadio } from './udp-radio.ts'
export { MultiRadio, compositeState, MULTI_RADIO_DEFAULTS, type MultiRadioOptions, type FrameAddresses } from './multi-radio.ts'
export { HubRadio } from './hub-radio.ts'
export { Hub } from './hub.ts'
export { loadHubTopology, parseHubTopology, chain as hubChain } from './hub-topology.ts'
