import { NextToLast } from 'blockstore-fs/sharding';
import type { CID } from 'multiformats/cid';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BlockBackend, ListedBlock } from './block-backend.ts';
import { BlockError } from './block-error.ts';

export interface S3BlockOptions {
  /** An S3-compatible server (Ceph RGW, Garage, s3rver); unset for AWS S3 itself. */
  endpoint?: string | undefined;
  bucket: string;
  region: string;
  /** Each request's deadline, retries included: past it the store is `unavailable` (503), never a hang. */
  timeoutMs: number;
  /** Key prefix of the blocks in the bucket. */
  prefix?: string;
  /** Keys per listing page (S3's most, 1000, by default). */
  listPageSize?: number;
}

type Sdk = typeof import('@aws-sdk/client-s3');

/** Where gc's clock probe is written: one tiny object, overwritten each run. */
const CLOCK_KEY = 'fai/clock';

/**
 * Blocks in an S3-compatible bucket (HUB_BLOCKSTORE=s3): every host reads and writes the same
 * blocks. Keys follow blockstore-fs's layout under `blocks/` (`blocks/<shard>/<key>.data`), so a
 * directory of blocks and a bucket are copies of each other.
 *
 * A thin adapter on the AWS SDK v3 client rather than js-stores' blockstore-s3: gc needs each
 * block's LastModified, which blockstore-s3's getAll() drops (and on an empty bucket it throws);
 * its errors carry no kind we could map (a missing key arrives as the SDK's NoSuchKey, an outage as
 * a socket error) — here each becomes our `missing_block` (404) or `unavailable` (503).
 *
 * The SDK is imported when the first request is made: the embedded default (fs) and the CLI's
 * local commands never load it.
 */
export class S3BlockBackend implements BlockBackend {
  readonly kind = 's3' as const;
  readonly where: string;
  private readonly sharding = new NextToLast();
  private readonly prefix: string;
  private client: Promise<{ s3: S3Client; sdk: Sdk }> | undefined;

  constructor(private readonly options: S3BlockOptions) {
    this.prefix = options.prefix ?? 'blocks/';
    this.where = `s3://${options.bucket}${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}`;
  }

  private connect(): Promise<{ s3: S3Client; sdk: Sdk }> {
    this.client ??= (async () => {
      const sdk = await import('@aws-sdk/client-s3');
      const offAws = this.options.endpoint !== undefined;
      const s3 = new sdk.S3Client({
        region: this.options.region,
        ...(offAws ? { endpoint: this.options.endpoint, forcePathStyle: true } : {}),
        // Since SDK 3.729 every request carries a CRC checksum by default, which several S3-compatible
        // servers reject or mis-store; off AWS only what a request requires is sent. Blocks are
        // verified against their CIDs on every read anyway.
        ...(offAws ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
        maxAttempts: 2,
        // The SDK builds its Node handler from these options (no need to import @smithy's handler ourselves).
        requestHandler: { connectionTimeout: Math.min(1000, this.options.timeoutMs), requestTimeout: this.options.timeoutMs },
      });
      return { s3, sdk };
    })();
    return this.client;
  }

  /** Sends one command within the deadline; every failure becomes a BlockError. */
  private async send<T>(what: string, run: (s3: S3Client, sdk: Sdk, deadline: { abortSignal: AbortSignal }) => Promise<T>, notFound?: () => T): Promise<T> {
    const { s3, sdk } = await this.connect();
    try {
      return await run(s3, sdk, { abortSignal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      if (notFound !== undefined && (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404)) return notFound();
      // A bucket or credentials problem is the operator's to fix, and no request can be served meanwhile: 503, saying which.
      if (e.name === 'NoSuchBucket') throw new BlockError('unavailable', `${what}: the bucket ${this.options.bucket} does not exist at ${this.where} (HUB_S3_BUCKET)`, { cause: error });
      if (e.name === 'CredentialsProviderError') throw new BlockError('unavailable', `${what}: no credentials for ${this.where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or another source of the AWS SDK's standard chain)`, { cause: error });
      if (e.name === 'AccessDenied' || e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch' || status === 403) {
        throw new BlockError('unavailable', `${what}: ${this.where} refused the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): ${e.name}`, { cause: error });
      }
      // Refused, reset, timed out, aborted at our deadline, or a 5xx: the store is not answering now.
      const reason = e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : `${e.name ?? 'error'}${e.code !== undefined ? ` ${e.code}` : ''}${status !== undefined ? ` (HTTP ${status})` : ''}`;
      throw new BlockError('unavailable', `${what}: the shared block store ${this.where} is unavailable: ${reason}`, { cause: error });
    }
  }

  private key(cid: CID): string {
    const { dir, file } = this.sharding.encode(cid);
    return `${this.prefix}${dir}/${file}`;
  }

  private opened: Promise<void> | undefined;

  /** Checks the bucket once (a failed check is tried again on the next call). */
  open(): Promise<void> {
    this.opened ??= this.ping().catch((error: unknown) => {
      this.opened = undefined;
      throw error;
    });
    return this.opened;
  }

  /** Asks the store now (for /health): the bucket is there and answers. */
  async ping(): Promise<void> {
    await this.send('checking the block bucket', (s3, sdk, deadline) => s3.send(new sdk.HeadBucketCommand({ Bucket: this.options.bucket }), deadline));
  }

  async close(): Promise<void> {
    if (this.client === undefined) return;
    (await this.client).s3.destroy();
    this.client = undefined;
    this.opened = undefined;
  }

  /** An acknowledged PUT is stored whole (S3 writes an object atomically): no temporary object, nothing to sync. */
  async put(cid: CID, bytes: Uint8Array): Promise<void> {
    await this.send(`writing block ${cid}`, (s3, sdk, deadline) => s3.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(cid), Body: bytes, ContentLength: bytes.byteLength }), deadline));
  }

  async get(cid: CID): Promise<Uint8Array> {
    const missing = Symbol('missing');
    const answer = await this.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } } | typeof missing>(
      `reading block ${cid}`,
      (s3, sdk, deadline) => s3.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(cid) }), deadline),
      () => missing,
    );
    if (answer === missing || answer.Body === undefined) throw new BlockError('missing_block', `block ${cid} is not in this hub (${this.where})`);
    try {
      return await answer.Body.transformToByteArray();
    } catch (error) {
      throw new BlockError('unavailable', `reading block ${cid}: the shared block store ${this.where} stopped mid-body: ${(error as Error).message}`, { cause: error });
    }
  }

  async has(cid: CID): Promise<boolean> {
    return this.send(`looking up block ${cid}`, (s3, sdk, deadline) => s3.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(cid) }), deadline).then(() => true), () => false);
  }

  async delete(cid: CID): Promise<void> {
    await this.send(`deleting block ${cid}`, (s3, sdk, deadline) => s3.send(new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(cid) }), deadline));
  }

  /** The bucket's listing, a page at a time; an empty bucket lists nothing (no Contents), never an error. */
  async *list(): AsyncGenerator<ListedBlock> {
    let token: string | undefined;
    do {
      const page = await this.send<{ Contents?: Array<{ Key?: string; LastModified?: Date }>; NextContinuationToken?: string; IsTruncated?: boolean }>('listing the blocks', (s3, sdk, deadline) => s3.send(new sdk.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.prefix, ContinuationToken: token, MaxKeys: this.options.listPageSize ?? 1000 }), deadline),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.endsWith('.data')) continue;
        let cid: CID;
        try {
          cid = this.sharding.decode(object.Key.slice(object.Key.lastIndexOf('/') + 1));
        } catch {
          continue; // not a block of ours
        }
        yield { cid, modifiedAt: object.LastModified?.getTime() };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * The store's clock: the LastModified it gives an object written now. Block times in the listing
   * come from the same clock, so gc's cutoff does not depend on any host's. S3 keeps whole seconds:
   * floored here, as the listing's are.
   */
  async clock(): Promise<number> {
    await this.send('writing the clock probe', (s3, sdk, deadline) => s3.send(new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key: CLOCK_KEY, Body: new Uint8Array(0), ContentLength: 0 }), deadline));
    const head = await this.send<{ LastModified?: Date }>('reading the clock probe', (s3, sdk, deadline) => s3.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: CLOCK_KEY }), deadline));
    if (head.LastModified === undefined) throw new BlockError('io', `${this.where} gives objects no LastModified: gc cannot tell a block's age`);
    return head.LastModified.getTime();
  }

  /** S3 writes whole objects or none: no temporary object is ever left. */
  async removeStaleTemp(): Promise<number> {
    return 0;
  }
}
