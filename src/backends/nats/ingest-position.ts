/**
 * Positions in the partitioned log. An event's place is (partition, stream
 * sequence of its message, line within the message): sequences are what
 * JetStream assigns and acknowledges, the same on every node, known to the
 * writer the moment it is acknowledged, and gap-free (messages are never
 * deleted one by one). A position across the log is a vector, per partition
 * the last sequence acknowledged (or applied), 0 for none; a batch cutoff
 * will be one too, and since it falls between messages, never within one, a
 * message's events are always on the same side of it.
 *
 * Why not a gap-free count of events per partition, as the embedded log has?
 * The writer could not know it when acknowledged (other nodes append to the
 * same partition), and every reader would have to count from the stream's
 * first message, or from a count stored with the archive once a prefix is
 * purged. The count of the events that *count* (after the duplicate rule)
 * differs from the count of events stored anyway, so neither is the offset
 * to split layers by: the sequence is.
 *
 * @module
 */

/** Per partition, the last sequence acknowledged (or applied); 0 for none. */
export type IngestPosition = readonly number[];

/** The position before anything: 0 in each of `partitions`. */
export function emptyPosition(partitions: number): number[] {
  return new Array<number>(partitions).fill(0);
}

/** Per partition, the later of the two. */
export function laterOf(a: IngestPosition, b: IngestPosition): number[] {
  return a.map((seq, p) => Math.max(seq, b[p] ?? 0));
}

/** Whether `applied` has reached `wanted` in every partition. */
export function reaches(applied: IngestPosition, wanted: IngestPosition): boolean {
  return wanted.every((seq, p) => (applied[p] ?? 0) >= seq);
}
