/**
 * Upload progress of build contexts, on stderr (stdout stays for results and --json):
 * one line per context, and on a terminal a percentage that updates in place.
 */
import type { UploadProgress } from '../client/upload-contexts';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function uploadReporter(stream: NodeJS.WriteStream = process.stderr): (p: UploadProgress) => void {
  const live = Boolean(stream.isTTY);
  return (p) => {
    switch (p.phase) {
      case 'packed':
        stream.write(`context of ${p.service}: ${p.files} files, ${formatBytes(p.bytes)} (${p.commit ? `commit ${p.commit.slice(0, 7)}, ` : ''}content ${p.sha256.slice(0, 12)})\n`);
        return;
      case 'present':
        stream.write('  unchanged: the server already has it, nothing to upload\n');
        return;
      case 'uploading':
        if (live) stream.write(`\r  uploading ${Math.floor((p.sent / Math.max(p.bytes, 1)) * 100)}% of ${formatBytes(p.bytes)}`);
        return;
      case 'uploaded': {
        const rate = p.ms > 0 ? ` (${formatBytes(Math.round((p.bytes / p.ms) * 1000))}/s)` : '';
        stream.write(`${live ? '\r\x1b[K' : ''}  uploaded ${formatBytes(p.bytes)} in ${p.ms} ms${rate}\n`);
        return;
      }
    }
  };
}
