import { SimScheduler } from '../core/scheduler.ts'
import { MockMedium } from './mock-radio.ts'
import { radioContract } from './radio-contract.ts'

radioContract('MockRadio', async () => {
  const scheduler = new SimScheduler()
  const medium = new MockMedium({ scheduler })
  return { a: medium.radio(), b: medium.radio(), settle: async () => scheduler.run(), queueLimit: 64 }
})
