/** Which stats shard counts a user: FNV-1a (32-bit) of the userId, mod the shard count. */
export function shardIndex(userId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export function shardName(index: number): string {
  return `shard-${index}`;
}
