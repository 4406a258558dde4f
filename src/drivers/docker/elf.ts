/** Minimal ELF reading: does a binary need a dynamic loader (PT_INTERP), and which one. */
import { open } from 'node:fs/promises';

const PT_INTERP = 3;

export interface ElfInfo {
  /** The program interpreter (dynamic loader), null for a statically linked binary. */
  interpreter: string | null;
}

/** Reads the program headers of an ELF file; null when the file is not ELF. */
export async function readElf(file: string): Promise<ElfInfo | null> {
  const fh = await open(file, 'r');
  try {
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    };
    const ident = await read(0, 64);
    if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) return null;
    const is64 = ident[4] === 2;
    const le = ident[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const addr = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = addr(ident, is64 ? 0x20 : 0x1c);
    const phentsize = u16(ident, is64 ? 0x36 : 0x2a);
    const phnum = u16(ident, is64 ? 0x38 : 0x2c);
    if (phnum === 0 || phentsize === 0) return { interpreter: null };
    const table = await read(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
      if (ph.length < phentsize || u32(ph, 0) !== PT_INTERP) continue;
      const offset = addr(ph, is64 ? 0x08 : 0x04);
      const size = addr(ph, is64 ? 0x20 : 0x10);
      return { interpreter: (await read(offset, size)).toString('latin1').replace(/\0+$/, '') };
    }
    return { interpreter: null };
  } finally {
    await fh.close();
  }
}
