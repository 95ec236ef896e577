/**
 * The analytic model of pbcast's delivery distribution: how many members receive one message
 * (PROTOCOLS.md §5; seed 004's epidemic analysis; Birman et al., "Bimodal Multicast", 1999, §5).
 *
 * Protocol semantics modelled (roundPhase 'aligned'): rounds at k·roundMs. At 0+ the origin sends
 * the message to `firstFanout` distinct members chosen uniformly, each datagram lost independently
 * with probability `loss`. With `originCrashes` the origin then stops: it never gossips and never
 * answers, though others still pick it as a partner (wasted digests); otherwise it holds the
 * message. In each round r = 1..rounds every live member picks `fanout` distinct partners uniformly
 * among the other n−1 members and sends each a digest of what it holds (a message received in round
 * r is held, and gossiped, from round r+1):
 * - pull: a non-holder that gets a holder's digest solicits it and the holder retransmits; it
 *   succeeds when digest, solicitation and retransmission all survive, (1−loss)³;
 * - push (only in rounds r ≥ pushAfterRounds, the message's age): a non-holder's own digest to a
 *   holder makes the holder push the message; it succeeds with (1−loss)².
 * After `rounds` rounds (gcRounds) nobody gossips the message any more.
 *
 * The model is a Markov chain on X = the number of holders among the n−1 non-origin members,
 * with the standard independence approximation: given X at the start of a round, each non-holder
 * receives independently with its exact marginal probability
 *   1 − (1 − q·(1−loss)³)^H · E[(1 − (1−loss)²)^K],   q = fanout/(n−1),  H = X + [origin live],
 * where K ~ Hypergeometric(n−1, H, fanout) is the number of holders among the non-holder's own
 * partners (the factor is 1 before pushAfterRounds). The new holders are then Binomial. Pull
 * contacts of one holder are in fact negatively correlated (it picks `fanout` distinct partners),
 * so the chain slightly overstates the variance of each round's growth while the number of holders
 * is tiny, i.e. overstates early die-out; analysis.test.ts measures the gap against a Monte Carlo
 * simulation of the exact process.
 *
 * Cost: O(rounds·n²) time, O(n) memory. Binomial rows are computed from their mode outwards (log
 * space for the mode term), so nothing underflows that matters, and each row is renormalised.
 */

export interface DeliveryModelParams {
  /** Members including the origin (≥ 1). */
  n: number
  /** Partners per member per round (clamped to n−1). */
  fanout: number
  /** Gossip rounds before the message is garbage-collected (gcRounds). */
  rounds: number
  /** Probability that one datagram is lost, in [0, 1]. */
  loss: number
  /** Members the origin sends the message to first (clamped to n−1). */
  firstFanout: number
  /** The origin crashes right after the first dissemination. */
  originCrashes: boolean
  /** First round (message age) in which holders push to non-holders (Infinity: never). */
  pushAfterRounds: number
  /**
   * A non-holder solicits a message from at most one digest sender per round (pbcast's
   * `solicitOncePerRound`): pull then succeeds when at least one holder's digest arrives and that
   * solicitation and its retransmission survive, (1 − (1 − q·(1−loss))^H)·(1−loss)². Default false.
   */
  solicitOnce?: boolean
}

function check(p: DeliveryModelParams): void {
  const int = (v: number, name: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`deliveryDistribution: ${name} must be an integer ≥ ${min}, got ${v}`)
  }
  int(p.n, 'n', 1)
  int(p.fanout, 'fanout', 0)
  int(p.rounds, 'rounds', 0)
  int(p.firstFanout, 'firstFanout', 0)
  if (!(p.loss >= 0 && p.loss <= 1)) throw new RangeError(`deliveryDistribution: loss must be in [0, 1], got ${p.loss}`)
  if (!(p.pushAfterRounds >= 0) || (!Number.isInteger(p.pushAfterRounds) && p.pushAfterRounds !== Infinity)) {
    throw new RangeError(`deliveryDistribution: pushAfterRounds must be an integer ≥ 0 or Infinity, got ${p.pushAfterRounds}`)
  }
  if (typeof p.originCrashes !== 'boolean') throw new RangeError('deliveryDistribution: originCrashes must be a boolean')
}

/** ln(k!) for k = 0..n. */
function logFactorials(n: number): Float64Array {
  const lf = new Float64Array(n + 1)
  for (let k = 2; k <= n; k++) lf[k] = lf[k - 1] + Math.log(k)
  return lf
}

/**
 * Binomial(N, p) pmf into out[0..N], computed from the mode outwards and normalised to sum 1.
 * p must be in (0, 1).
 */
function binomialRow(N: number, p: number, lf: Float64Array, out: Float64Array): void {
  const mode = Math.min(N, Math.floor((N + 1) * p))
  const lq = Math.log1p(-p), lp = Math.log(p)
  const top = Math.exp(lf[N] - lf[mode] - lf[N - mode] + mode * lp + (N - mode) * lq)
  out[mode] = top
  let sum = top
  const up = p / (1 - p)
  let t = top
  for (let j = mode + 1; j <= N; j++) {
    t = t === 0 ? 0 : (t * (N - j + 1) * up) / j
    out[j] = t
    sum += t
  }
  t = top
  for (let j = mode - 1; j >= 0; j--) {
    t = t === 0 ? 0 : (t * (j + 1)) / ((N - j) * up)
    out[j] = t
    sum += t
  }
  for (let j = 0; j <= N; j++) out[j] /= sum
}

/** E[t^K] for K ~ Hypergeometric(population, successes, draws). */
function hypergeometricPgf(population: number, successes: number, draws: number, t: number, lf: Float64Array): number {
  const lo = Math.max(0, draws - (population - successes)), hi = Math.min(draws, successes)
  const lc = (a: number, b: number): number => lf[a] - lf[b] - lf[a - b]
  const denom = lc(population, draws)
  let e = 0
  for (let k = lo; k <= hi; k++) e += Math.exp(lc(successes, k) + lc(population - successes, draws - k) - denom) * t ** k
  return e
}

interface Chain {
  m: number
  f: number
  f1: number
  live: number
  s1: number
  lf: Float64Array
}

/**
 * Run the chain: `visit(r, dist)` sees the distribution of X at the start of each round r =
 * 1..rounds (before that round's transfers); returns the final distribution over 0..n−1.
 */
function evolve(p: DeliveryModelParams, visit?: (r: number, dist: Float64Array, c: Chain) => void): Float64Array {
  check(p)
  const m = p.n - 1
  const lf = logFactorials(Math.max(1, m))
  const c: Chain = { m, f: Math.min(p.fanout, m), f1: Math.min(p.firstFanout, m), live: p.originCrashes ? 0 : 1, s1: 1 - p.loss, lf }
  let dist = new Float64Array(m + 1)
  if (m === 0) {
    dist[0] = 1
    return dist
  }
  const row = new Float64Array(m + 1)
  // First dissemination: Binomial(f1, 1−loss) members hold the message before round 1.
  if (c.f1 === 0 || c.s1 === 0) dist[0] = 1
  else if (c.s1 === 1) dist[c.f1] = 1
  else {
    binomialRow(c.f1, c.s1, lf, row)
    dist.set(row.subarray(0, c.f1 + 1))
  }
  const q = c.f / m
  const s3 = c.s1 ** 3, s2 = c.s1 ** 2
  // Per H = holders a non-holder can hear from (0..m): pull and push failure probabilities.
  const pullFail = new Float64Array(m + 1), pushFail = new Float64Array(m + 1)
  for (let h = 0; h <= m; h++) {
    pullFail[h] = p.solicitOnce ? 1 - (1 - (1 - q * c.s1) ** h) * s2 : (1 - q * s3) ** h
    pushFail[h] = hypergeometricPgf(m, h, c.f, 1 - s2, lf)
  }
  let next = new Float64Array(m + 1)
  for (let r = 1; r <= p.rounds; r++) {
    visit?.(r, dist, c)
    next.fill(0)
    const push = r >= p.pushAfterRounds
    for (let x = 0; x <= m; x++) {
      const w = dist[x]
      if (w === 0) continue
      const h = x + c.live, u = m - x
      const pr = h === 0 || u === 0 ? 0 : 1 - pullFail[h] * (push ? pushFail[h] : 1)
      if (pr <= 0) next[x] += w
      else if (pr >= 1) next[m] += w
      else {
        binomialRow(u, pr, lf, row)
        for (let j = 0; j <= u; j++) next[x + j] += w * row[j]
      }
    }
    let total = 0
    for (let x = 0; x <= m; x++) total += next[x]
    for (let x = 0; x <= m; x++) next[x] /= total
    ;[dist, next] = [next, dist]
  }
  return dist
}

/** P[k], k = 0..n−1: the probability that exactly k members other than the origin receive the message. */
export function deliveryDistribution(p: DeliveryModelParams): Float64Array {
  return evolve(p)
}

/** Digests each live member sends per round (and, on average, receives): its fanout (clamped to n−1 when n is given). */
export function expectedDigestsPerMemberPerRound(fanout: number, n?: number): number {
  return n === undefined ? fanout : Math.min(fanout, Math.max(0, n - 1))
}

export interface LoadModel {
  /** Digests per live member per round (all messages share them). */
  digestsPerMemberPerRound: number
  /** Copies of the message the origin sends first. */
  firstCopies: number
  /** Expected solicitations for the message in round r (index r−1). */
  solicitsPerRound: Float64Array
  /** Expected copies of the message sent (retransmissions and pushes, lost ones included) in round r (index r−1). */
  copiesPerRound: Float64Array
  /** firstCopies + Σ copiesPerRound. */
  totalCopies: number
  /** Expected number of non-origin members that receive it. */
  expectedReceivers: number
}

/**
 * Expected traffic caused by one message under the same model (no cap on retransmissions per
 * round, which the protocol has: the model's copies are an upper bound in a crowded round).
 */
export function loadModel(p: DeliveryModelParams): LoadModel {
  const solicits = new Float64Array(p.rounds), copies = new Float64Array(p.rounds)
  const final = evolve(p, (r, dist, c) => {
    let s = 0, k = 0
    const q = c.m === 0 ? 0 : c.f / c.m
    for (let x = 0; x <= c.m; x++) {
      const h = x + c.live, u = c.m - x
      const pairs = dist[x] * u * h * q // expected (holder → non-holder) digests sent
      s += pairs * c.s1
      k += pairs * c.s1 * c.s1
      if (r >= p.pushAfterRounds) k += dist[x] * u * q * h * c.s1 // non-holder digests reaching a holder: E[K] = f·h/m
    }
    solicits[r - 1] = s
    copies[r - 1] = k
  })
  const f1 = Math.min(p.firstFanout, p.n - 1)
  let total = f1, expected = 0
  for (const x of copies) total += x
  final.forEach((v, k) => (expected += v * k))
  return {
    digestsPerMemberPerRound: expectedDigestsPerMemberPerRound(p.fanout, p.n),
    firstCopies: f1,
    solicitsPerRound: solicits,
    copiesPerRound: copies,
    totalCopies: total,
    expectedReceivers: expected,
  }
}

/** Empirical distribution over 0..n−1 of receiver counts (e.g. from simulation trials). */
export function histogram(counts: readonly number[], n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`histogram: n must be a positive integer, got ${n}`)
  const h = new Float64Array(n)
  if (counts.length === 0) return h
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new RangeError(`histogram: count ${c} is outside 0..${n - 1}`)
    h[c] += 1
  }
  for (let k = 0; k < n; k++) h[k] /= counts.length
  return h
}

/** Total variation distance ½·Σ|p−q| between two distributions over the same support. */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError(`totalVariation: lengths differ (${p.length} and ${q.length})`)
  let d = 0
  for (let k = 0; k < p.length; k++) d += Math.abs(p[k] - q[k])
  return d / 2
}

export interface Bimodality {
  /** Mass at k ≤ lowMax: (almost) nobody got it. */
  low: number
  /** Mass strictly between the bands. */
  middle: number
  /** Mass at k ≥ highMin: (almost) everybody got it. */
  high: number
  lowMax: number
  highMin: number
}

/**
 * Split a distribution over 0..m (m = p.length − 1 = n − 1 receivers) into three bands: low is
 * k ≤ floor(band·m), high is k ≥ ceil((1 − band)·m), middle the rest (band 0.1 by default: for
 * n = 50, low k ≤ 4, high k ≥ 45). A bimodal (pbcast) distribution has little middle mass.
 */
export function bimodality(p: ArrayLike<number>, band = 0.1): Bimodality {
  if (!(band > 0 && band < 0.5)) throw new RangeError(`bimodality: band must be in (0, 0.5), got ${band}`)
  const m = p.length - 1
  const lowMax = Math.floor(band * m), highMin = Math.max(lowMax + 1, Math.ceil((1 - band) * m))
  let low = 0, middle = 0, high = 0
  for (let k = 0; k <= m; k++) {
    if (k <= lowMax) low += p[k]
    else if (k >= highMin) high += p[k]
    else middle += p[k]
  }
  return { low, middle, high, lowMax, highMin }
}
