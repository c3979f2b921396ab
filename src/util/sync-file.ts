import { open } from 'node:fs/promises';

/** Makes a file's bytes durable (its data, as `fdatasync`). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
