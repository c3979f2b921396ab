import { open } from 'node:fs/promises';

/** Makes a directory's entries (new, renamed or removed files) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
