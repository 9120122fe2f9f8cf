import { describe, expect, it } from 'vitest';
import { AwsError } from '../core/errors.ts';
import { loadModel } from '../model/model.ts';
import { restXmlCodec } from './rest-xml.ts';
import type { RawRequest } from './types.ts';

const model = loadModel('s3');
const detected = { service: 's3', protocol: 'rest-xml' as const };

function req(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body = '',
  host = '127.0.0.1:4566',
): RawRequest {
  const q = url.indexOf('?');
  return {
    method,
    path: q >= 0 ? url.slice(0, q) : url,
    rawQuery: q >= 0 ? url.slice(q + 1) : '',
    query: new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''),
    headers,
    body: Buffer.from(body),
    host,
  };
}

describe('restXml routing (S3)', () => {
  const cases: [string, string, Record<string, string>, string][] = [
    ['GET', '/', {}, 'ListBuckets'],
    ['PUT', '/b', {}, 'CreateBucket'],
    ['HEAD', '/b', {}, 'HeadBucket'],
    ['GET', '/b', {}, 'ListObjects'],
    ['GET', '/b/', {}, 'ListObjects'],
    ['GET', '/b?list-type=2&prefix=a', {}, 'ListObjectsV2'],
    ['GET', '/b?location', {}, 'GetBucketLocation'],
    ['GET', '/b?versions', {}, 'ListObjectVersions'],
    ['GET', '/b?uploads', {}, 'ListMultipartUploads'],
    ['GET', '/b?lifecycle', {}, 'GetBucketLifecycleConfiguration'],
    ['PUT', '/b?notification', {}, 'PutBucketNotificationConfiguration'],
    ['POST', '/b?delete', {}, 'DeleteObjects'],
    ['PUT', '/b/k', {}, 'PutObject'],
    ['PUT', '/b/k?x-id=PutObject', {}, 'PutObject'],
    ['PUT', '/b/k', { 'x-amz-copy-source': 'b/j' }, 'CopyObject'],
    ['PUT', '/b/k?partNumber=1&uploadId=u', {}, 'UploadPart'],
    ['PUT', '/b/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': 'b/j' }, 'UploadPartCopy'],
    ['GET', '/b/k', {}, 'GetObject'],
    ['GET', '/b/k?uploadId=u', {}, 'ListParts'],
    ['GET', '/b/k?tagging', {}, 'GetObjectTagging'],
    ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload'],
    ['POST', '/b/k?uploadId=u', {}, 'CompleteMultipartUpload'],
    ['DELETE', '/b/k?uploadId=u', {}, 'AbortMultipartUpload'],
    ['DELETE', '/b/k', {}, 'DeleteObject'],
    ['HEAD', '/b/a/b/c', {}, 'HeadObject'],
  ];
  for (const [method, url, headers, op] of cases) {
    it(`${method} ${url} → ${op}`, () => {
      expect(restXmlCodec.parse(req(method, url, headers), model, detected).operation).toBe(op);
    });
  }

  it('binds greedy keys exactly (slashes, trailing slash, encoded characters)', () => {
    const { input } = restXmlCodec.parse(req('GET', '/b/dir//a%20b%2Bc/'), model, detected);
    expect(input).toMatchObject({ Bucket: 'b', Key: 'dir//a b+c/' });
  });

  it('rewrites virtual-hosted requests to path style', () => {
    const { operation, input } = restXmlCodec.parse(
      req('GET', '/k/x?versionId=v1', {}, '', 'my.bucket.s3.localhost:4566'),
      model,
      detected,
    );
    expect(operation).toBe('GetObject');
    expect(input).toMatchObject({ Bucket: 'my.bucket', Key: 'k/x', VersionId: 'v1' });
  });

  it('binds headers, metadata maps and timestamps', () => {
    const { input } = restXmlCodec.parse(
      req('GET', '/b/k', {
        'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
        range: 'bytes=0-1',
        'x-amz-meta-a': '1',
      }),
      model,
      detected,
    );
    expect(input.IfModifiedSince).toEqual(new Date('2015-10-21T07:28:00Z'));
    expect(input.Range).toBe('bytes=0-1');
  });

  it('parses XML payloads by the model (flattened lists, wrapped lists, booleans)', () => {
    const del = restXmlCodec.parse(
      req(
        'POST',
        '/b?delete',
        {},
        '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key> b </Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>',
      ),
      model,
      detected,
    );
    expect(del.input.Delete).toEqual({ Objects: [{ Key: 'a' }, { Key: ' b ', VersionId: 'v' }], Quiet: true });
    const tags = restXmlCodec.parse(
      req('PUT', '/b?tagging', {}, '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>'),
      model,
      detected,
    );
    expect(tags.input.Tagging).toEqual({ TagSet: [{ Key: 'k', Value: 'v' }] });
    expect(() => restXmlCodec.parse(req('POST', '/b?delete', {}, '<Delete><Object>'), model, detected)).toThrow(
      /not well-formed/,
    );
  });

  it('serializes outputs with the s3 namespace and errors as <Error>', () => {
    const out = restXmlCodec.serialize(
      model,
      'ListObjectsV2',
      { Name: 'b', KeyCount: 1, IsTruncated: false, Contents: [{ Key: 'a&b', Size: 1 }] },
      'abcd-ef',
    );
    expect(String(out.body)).toContain(
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</Key><Size>1</Size></Contents><Name>b</Name><KeyCount>1</KeyCount></ListBucketResult>',
    );
    expect(out.headers['x-amz-request-id']).toBe('ABCDEF');
    const err = restXmlCodec.serializeError(
      model,
      new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { extra: { Key: 'k' } }),
      'r-1',
      detected,
    );
    expect(err.status).toBe(404);
    expect(String(err.body)).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>k<\/Key><RequestId>R1<\/RequestId><HostId>/,
    );
  });

  it('streams only object and part uploads', () => {
    expect(restXmlCodec.streams!(req('PUT', '/b/k'), detected)).toBe(true);
    expect(restXmlCodec.streams!(req('PUT', '/b/k?partNumber=2&uploadId=u'), detected)).toBe(true);
    expect(restXmlCodec.streams!(req('PUT', '/k', {}, '', 'b.localhost:4566'), detected)).toBe(true);
    expect(restXmlCodec.streams!(req('PUT', '/b/k?tagging'), detected)).toBe(false);
    expect(restXmlCodec.streams!(req('PUT', '/b/k', { 'x-amz-copy-source': 'b/j' }), detected)).toBe(false);
    expect(restXmlCodec.streams!(req('PUT', '/b'), detected)).toBe(false);
  });
});
