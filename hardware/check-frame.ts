import { ErrorCodes, SpinmeshError } from '../core/errors.ts'

/** The input checks every `Radio.send` makes at its boundary. */
export function checkFrame(frame: Uint8Array, mtu: number, closed: boolean): void {
  if (closed) throw new SpinmeshError(ErrorCodes.CLOSED, 'radio is closed')
  if (!(frame instanceof Uint8Array)) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'frame must be a Uint8Array')
  if (frame.length === 0) throw new SpinmeshError(ErrorCodes.INVALID_ARGUMENT, 'frame is empty')
  if (frame.length > mtu) {
    throw new SpinmeshError(ErrorCodes.FRAME_TOO_LARGE, `frame of ${frame.length} bytes exceeds the radio MTU of ${mtu}`)
  }
}
