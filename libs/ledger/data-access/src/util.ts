/** A plain Uint8Array view of a Buffer, so records compare equal whichever log they came from. */
export function toUint8Array(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** As a Buffer without copying (kafkajs and pg take Buffers). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
