/**
 * Resolve a scenario's per-layer settings through each layer's own validator, so every bound lives
 * in one place (the layer's defaults module) and every error names the scenario field:
 * `radio.*` → hardware/sim-defaults.ts, `link.*` → adhoc/link-defaults.ts, `protocolConfig.*` →
 * the protocol's defaults module. Called when a scenario is validated and when it is built.
 */
import { ConfigError } from '../core/errors.ts'
import { airtimeMs } from '../hardware/airtime.ts'
import { DEFAULT_SIM_RADIO, LORA_SIM_RADIO, resolveSimRadioConfig, type SimRadioConfig } from '../hardware/sim-defaults.ts'
import { LORA_LINK_CONFIG, beaconAirtimeShare, validateLinkConfig, type LinkConfig } from '../adhoc/link-defaults.ts'
import { protocolEntry, type ProtocolEntry } from './protocols.ts'
import type { Scenario } from './scenario.ts'
import { validateSimSecurity, type SimSecurity } from '../crypto/sim-network.ts'

/** Beacons may use at most this share of a duty-cycled radio's budget (the rest is for traffic). */
export const MAX_BEACON_SHARE_OF_DUTY_CYCLE = 0.1

export interface ResolvedLayers {
  radio: SimRadioConfig
  link: LinkConfig
  protocol: ProtocolEntry
  protocolConfig: unknown
  security: SimSecurity
}

export function resolveLayers(s: Scenario): ResolvedLayers {
  const { preset, ...fields } = s.radio as { preset: 'wifi' | 'lora' } & Record<string, unknown>
  const lora = preset === 'lora'
  const base = lora ? resolveSimRadioConfig(LORA_SIM_RADIO) : DEFAULT_SIM_RADIO
  const partial: Record<string, unknown> = { ...fields }
  if (typeof partial.csma === 'boolean') partial.csma = { enabled: partial.csma }
  const radio = resolveSimRadioConfig(partial as Partial<SimRadioConfig>, base, 'radio')

  const link = validateLinkConfig({ ...(lora ? LORA_LINK_CONFIG : {}), ...s.link }, 'link')
  if (radio.dutyCycle < 1 && link.beaconIntervalMs > 0) {
    const share = beaconAirtimeShare(link, (bytes) => airtimeMs(bytes, radio.bitrate, radio.preambleMs))
    const limit = MAX_BEACON_SHARE_OF_DUTY_CYCLE * radio.dutyCycle
    if (share > limit) {
      const needed = Math.ceil((link.beaconIntervalMs * share) / limit)
      throw new ConfigError(
        'link.beaconIntervalMs',
        `beacons every ${link.beaconIntervalMs} ms use ${(share * 100).toFixed(2)} % of airtime, more than ` +
          `${MAX_BEACON_SHARE_OF_DUTY_CYCLE * 100} % of the radio's ${radio.dutyCycle * 100} % duty cycle; use at least ${needed} ms (or 0 for no beacons)`,
      )
    }
  }

  const security = validateSimSecurity(s.security, 'security')
  const protocol = protocolEntry(s.protocol)
  const protocolConfig = protocol.validate(s.protocolConfig, 'protocolConfig')
  const max = protocol.maxPayload(link, security.config.mode)
  s.traffic.forEach((t, i) => {
    if (t.size > max) {
      throw new ConfigError(`traffic.${i}.size`, `${t.size} bytes is more than protocol ${s.protocol} carries (${max} bytes with link.maxDatagram ${link.maxDatagram})`)
    }
  })
  return { radio, link, protocol, protocolConfig, security }
}
