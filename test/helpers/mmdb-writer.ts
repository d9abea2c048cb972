import net from 'node:net';

/**
 * A minimal MaxMind DB (format 2.0) writer, so tests build a GeoIP2-Country-shaped database for loopback addresses
 * instead of committing a binary: an IPv6 tree (IPv4 networks live under ::/96, where readers and nginx's geoip2
 * module look them up), 24-bit records, and the data types a Country record needs (map, UTF-8 string, uint, array).
 * Spec: https://maxmind.github.io/MaxMind-DB/
 */

/** An unsigned integer of an explicit width: the metadata's fields are typed (libmaxminddb checks the types). */
export class Uint {
  constructor(
    readonly bits: 16 | 32 | 64,
    readonly value: number | bigint,
  ) {}
}

export type MmdbValue = string | number | Uint | MmdbValue[] | { [key: string]: MmdbValue };

const UINT_TYPE = { 16: 5, 32: 6, 64: 9 } as const;

interface TrieNode {
  children: [TrieNode | Leaf | undefined, TrieNode | Leaf | undefined];
}
interface Leaf {
  data: number; // offset in the data section
}

const isLeaf = (n: TrieNode | Leaf | undefined): n is Leaf => n !== undefined && 'data' in n;

/** The control byte(s): 3 bits of type (0 = extended, type - 7 in the next byte) and 5 of size (29..31 extend). */
function control(type: number, size: number): Buffer {
  const head: number[] = [];
  const extra: number[] = [];
  let sizeBits: number;
  if (size < 29) sizeBits = size;
  else if (size < 285) [sizeBits, extra[0]] = [29, size - 29];
  else if (size < 65_821) {
    const s = size - 285;
    [sizeBits, extra[0], extra[1]] = [30, s >> 8, s & 0xff];
  } else {
    const s = size - 65_821;
    [sizeBits, extra[0], extra[1], extra[2]] = [31, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff];
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}

function unsigned(value: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.from(bytes);
}

/** Plain numbers are uint32 (type 6); strings are UTF-8 (type 2). Integers take as few bytes as they need. */
export function encode(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') return encode(new Uint(32, value));
  if (value instanceof Uint) {
    const n = BigInt(value.value);
    if (n < 0n || n >= 2n ** BigInt(value.bits))
      throw new Error(`mmdb-writer: ${n} is not a uint${value.bits}`);
    const bytes = unsigned(n);
    return Buffer.concat([control(UINT_TYPE[value.bits], bytes.length), bytes]);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  }
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

/** An address as 128 bits, IPv4 mapped to ::a.b.c.d (the spec's IPv4 subtree in an IPv6 database). */
function bits(address: string): number[] {
  const family = net.isIP(address);
  if (family === 0) throw new Error(`mmdb-writer: not an IP address: ${address}`);
  const bytes =
    family === 4 ? [...new Array<number>(12).fill(0), ...address.split('.').map(Number)] : ipv6Bytes(address);
  return bytes.flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (b >> i) & 1));
}

/** Plain hex groups only (no embedded dotted IPv4): enough for the networks a test writes. */
function ipv6Bytes(address: string): number[] {
  if (address.includes('.')) throw new Error(`mmdb-writer: write ${address} as hex groups`);
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const [h, t] = [groups(head), groups(tail)];
  const all = address.includes('::')
    ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
    : h;
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * The whole file for `networks` (CIDR → record). Networks must not overlap (a test database has no need to).
 */
export function writeMmdb(
  networks: Record<string, MmdbValue>,
  meta: { databaseType?: string; buildEpoch?: number } = {},
): Buffer {
  const dataParts: Buffer[] = [];
  let dataLength = 0;
  const root: TrieNode = { children: [undefined, undefined] };

  for (const [cidr, value] of Object.entries(networks)) {
    const [address = '', prefixText] = cidr.split('/');
    const path = bits(address);
    const prefix =
      (net.isIP(address) === 4 ? 96 : 0) + Number(prefixText ?? (net.isIP(address) === 4 ? 32 : 128));
    if (!Number.isInteger(prefix) || prefix < 1 || prefix > 128)
      throw new Error(`mmdb-writer: bad network ${cidr}`);
    const encoded = encode(value);
    const leaf: Leaf = { data: dataLength };
    dataParts.push(encoded);
    dataLength += encoded.length;

    let node = root;
    for (let depth = 0; depth < prefix - 1; depth++) {
      const bit = path[depth]!;
      const next = node.children[bit];
      if (isLeaf(next)) throw new Error(`mmdb-writer: ${cidr} overlaps another network`);
      node = next ?? (node.children[bit] = { children: [undefined, undefined] });
    }
    if (node.children[path[prefix - 1]!]) throw new Error(`mmdb-writer: ${cidr} overlaps another network`);
    node.children[path[prefix - 1]!] = leaf;
  }

  // Number the nodes breadth first; the root is node 0.
  const nodes: TrieNode[] = [root];
  for (let i = 0; i < nodes.length; i++) {
    for (const child of nodes[i]!.children) if (child && !isLeaf(child)) nodes.push(child);
  }
  const nodeCount = nodes.length;
  const index = new Map(nodes.map((n, i) => [n, i]));
  // A record is a node number, node_count for "no data", or node_count + 16 + the data offset.
  const recordOf = (child: TrieNode | Leaf | undefined) =>
    child === undefined ? nodeCount : isLeaf(child) ? nodeCount + 16 + child.data : index.get(child)!;

  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, i) => {
    const [left, right] = node.children.map(recordOf) as [number, number];
    if (Math.max(left, right) >= 2 ** 24) throw new Error('mmdb-writer: too large for 24-bit records');
    tree.writeUIntBE(left, i * 6, 3);
    tree.writeUIntBE(right, i * 6 + 3, 3);
  });

  const metadata = encode({
    node_count: new Uint(32, nodeCount),
    record_size: new Uint(16, 24),
    ip_version: new Uint(16, 6),
    database_type: meta.databaseType ?? 'GeoLite2-Country',
    languages: ['en'],
    binary_format_major_version: new Uint(16, 2),
    binary_format_minor_version: new Uint(16, 0),
    build_epoch: new Uint(64, meta.buildEpoch ?? Math.floor(Date.now() / 1000)),
    description: { en: 'Assetline test database' },
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...dataParts,
    Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'),
    metadata,
  ]);
}

/** A GeoIP2-Country record as MaxMind's databases hold it (what nginx's `country iso_code` path reads). */
export const countryRecord = (isoCode: string, name = isoCode): MmdbValue => ({
  country: { iso_code: isoCode, names: { en: name } },
});
