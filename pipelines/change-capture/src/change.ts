/**
 * What a user-activity change means: parsing a stream record into an ActivityChange, deciding whether
 * it deserves a notification, and the audit record written for every change. Pure functions, no I/O.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type DynamoDBStreamRecord,
  type Image,
  PoisonRecordError,
  tableNameFromStreamArn,
} from '../../shared/stream-event.ts';

/** Activity types whose creation is security-relevant (overridable with NOTIFY_ACTIVITY_TYPES). */
export const DEFAULT_SECURITY_ACTIVITY_TYPES = [
  'LOGIN_FAILED',
  'PASSWORD_CHANGE',
  'PASSWORD_RESET',
  'MFA_DISABLED',
  'EMAIL_CHANGE',
  'PERMISSION_CHANGE',
  'ROLE_CHANGE',
  'ACCOUNT_LOCKED',
  'API_KEY_CREATED',
] as const;

export type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface ActivityChange {
  eventId: string;
  eventName: EventName;
  sequenceNumber: string;
  /** When DynamoDB wrote the change (the stream record's ApproximateCreationDateTime). */
  eventTime: Date;
  tableName: string | undefined;
  region: string | undefined;
  userId: string;
  activityId: string;
  activityType: string | undefined;
  previousActivityType: string | undefined;
  oldImage: Record<string, unknown> | undefined;
  newImage: Record<string, unknown> | undefined;
  /** MODIFY: attribute names added, removed or changed. */
  changedAttributes: string[];
  /** REMOVE made by DynamoDB's TTL sweeper rather than by a caller. */
  expiredByTtl: boolean;
}

export type Severity = 'HIGH' | 'MEDIUM';
export type NotificationReason =
  | 'SECURITY_ACTIVITY'
  | 'ACTIVITY_TYPE_CHANGED'
  | 'SECURITY_ACTIVITY_MODIFIED'
  | 'ACTIVITY_REMOVED';

export interface NotificationDecision {
  reason: NotificationReason;
  severity: Severity;
  summary: string;
}

function keyString(keys: Image | undefined, name: string): string {
  const v = keys?.[name];
  if (!v || typeof v.S !== 'string' || v.S === '')
    throw new PoisonRecordError(`stream record has no string key attribute ${name}`);
  return v.S;
}

function activityTypeOf(image: Image | undefined, which: string): string | undefined {
  const v = image?.ActivityType;
  if (v === undefined) return undefined;
  if (typeof v.S !== 'string' || v.S.trim() === '')
    throw new PoisonRecordError(`${which} ActivityType must be a non-empty string (got ${JSON.stringify(v)})`);
  return v.S;
}

function plain(image: Image | undefined, which: string): Record<string, unknown> | undefined {
  if (!image) return undefined;
  try {
    return unmarshall(image as Record<string, AttributeValue>);
  } catch (e) {
    throw new PoisonRecordError(`${which} cannot be read: ${(e as Error).message}`);
  }
}

/** Attribute-value equality independent of map key order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function changedAttributes(oldImage: Image, newImage: Image): string[] {
  const names = new Set([...Object.keys(oldImage), ...Object.keys(newImage)]);
  return [...names].filter((n) => !sameValue(oldImage[n], newImage[n])).sort();
}

/** Parse and validate one stream record; throws PoisonRecordError for records no retry can fix. */
export function parseChange(record: DynamoDBStreamRecord, now: () => Date = () => new Date()): ActivityChange {
  const eventName = record.eventName;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE')
    throw new PoisonRecordError(`unknown eventName ${JSON.stringify(eventName)}`);
  const ddb = record.dynamodb;
  if (!ddb?.SequenceNumber) throw new PoisonRecordError('stream record has no SequenceNumber');
  const userId = keyString(ddb.Keys, 'UserId');
  const activityId = keyString(ddb.Keys, 'ActivityId');
  // The table streams NEW_AND_OLD_IMAGES: a missing image means the stream is misconfigured.
  if (eventName !== 'REMOVE' && !ddb.NewImage) throw new PoisonRecordError(`${eventName} record has no NewImage`);
  if (eventName !== 'INSERT' && !ddb.OldImage) throw new PoisonRecordError(`${eventName} record has no OldImage`);
  const newType = activityTypeOf(ddb.NewImage, 'NewImage');
  const oldType = activityTypeOf(ddb.OldImage, 'OldImage');
  const created = ddb.ApproximateCreationDateTime;
  const eventTime = typeof created === 'number' && Number.isFinite(created) ? new Date(created * 1000) : now();
  return {
    eventId: record.eventID ?? `${eventName}-${ddb.SequenceNumber}`,
    eventName,
    sequenceNumber: ddb.SequenceNumber,
    eventTime,
    tableName: tableNameFromStreamArn(record.eventSourceARN),
    region: record.awsRegion,
    userId,
    activityId,
    activityType: eventName === 'REMOVE' ? oldType : newType,
    previousActivityType: eventName === 'MODIFY' ? oldType : undefined,
    oldImage: plain(ddb.OldImage, 'OldImage'),
    newImage: plain(ddb.NewImage, 'NewImage'),
    changedAttributes: eventName === 'MODIFY' ? changedAttributes(ddb.OldImage!, ddb.NewImage!) : [],
    expiredByTtl:
      eventName === 'REMOVE' &&
      record.userIdentity?.type === 'Service' &&
      record.userIdentity?.principalId === 'dynamodb.amazonaws.com',
  };
}

/**
 * Which changes are worth a human's attention (see the README for the reasoning):
 * - INSERT of a security-relevant activity type (failed logins, credential/MFA/permission changes ...);
 * - MODIFY that rewrites ActivityType: activity records are an append-only history, so changing what
 *   happened is a red flag; and any MODIFY of a security-relevant record;
 * - REMOVE by a caller: deleting activity history destroys evidence. TTL expiry is routine: audit only.
 * Everything else is recorded in the audit log only.
 */
export function decideNotification(
  change: ActivityChange,
  securityTypes: ReadonlySet<string>,
): NotificationDecision | undefined {
  const isSecurity = (t: string | undefined) => t !== undefined && securityTypes.has(t.toUpperCase());
  const who = `user ${change.userId}, activity ${change.activityId}`;
  switch (change.eventName) {
    case 'INSERT':
      if (isSecurity(change.activityType))
        return { reason: 'SECURITY_ACTIVITY', severity: 'MEDIUM', summary: `${change.activityType} for ${who}` };
      return undefined;
    case 'MODIFY':
      if (change.changedAttributes.length === 0) return undefined;
      if (change.activityType !== change.previousActivityType)
        return {
          reason: 'ACTIVITY_TYPE_CHANGED',
          severity: 'HIGH',
          summary: `ActivityType changed from ${change.previousActivityType ?? '(none)'} to ${change.activityType ?? '(none)'} for ${who}`,
        };
      if (isSecurity(change.activityType))
        return {
          reason: 'SECURITY_ACTIVITY_MODIFIED',
          severity: 'HIGH',
          summary: `${change.activityType} record modified (${change.changedAttributes.join(', ')}) for ${who}`,
        };
      return undefined;
    case 'REMOVE':
      if (change.expiredByTtl) return undefined;
      return {
        reason: 'ACTIVITY_REMOVED',
        severity: 'HIGH',
        summary: `${change.activityType ?? 'activity'} removed for ${who}`,
      };
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `audit-logs/YYYY/MM/DD/HHMMSSZ-<eventName>-<eventId>.json`, from the change's own time: a retry rewrites the same key. */
export function auditKey(change: ActivityChange, prefix: string): string {
  const t = change.eventTime;
  const day = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}`;
  const time = `${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}Z`;
  const id = change.eventId.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${prefix.replace(/\/+$/, '')}/${day}/${time}-${change.eventName}-${id}.json`;
}

export interface AuditRecord {
  schemaVersion: 1;
  eventId: string;
  eventName: EventName;
  eventTime: string;
  sequenceNumber: string;
  tableName: string | undefined;
  region: string | undefined;
  keys: { UserId: string; ActivityId: string };
  activityType: string | undefined;
  previousActivityType: string | undefined;
  changedAttributes: string[];
  expiredByTtl: boolean;
  oldImage: Record<string, unknown> | null;
  newImage: Record<string, unknown> | null;
  notification: { reason: NotificationReason; severity: Severity } | null;
  processedAt: string;
}

export function auditRecord(
  change: ActivityChange,
  decision: NotificationDecision | undefined,
  now: Date,
): AuditRecord {
  return {
    schemaVersion: 1,
    eventId: change.eventId,
    eventName: change.eventName,
    eventTime: change.eventTime.toISOString(),
    sequenceNumber: change.sequenceNumber,
    tableName: change.tableName,
    region: change.region,
    keys: { UserId: change.userId, ActivityId: change.activityId },
    activityType: change.activityType,
    previousActivityType: change.previousActivityType,
    changedAttributes: change.changedAttributes,
    expiredByTtl: change.expiredByTtl,
    oldImage: change.oldImage ?? null,
    newImage: change.newImage ?? null,
    notification: decision ? { reason: decision.reason, severity: decision.severity } : null,
    processedAt: now.toISOString(),
  };
}

/** The notification body: JSON for machines (SQS), text for people (email). */
export function notificationPayload(change: ActivityChange, decision: NotificationDecision, auditLocation: string) {
  const json = {
    source: 'change-capture',
    reason: decision.reason,
    severity: decision.severity,
    summary: decision.summary,
    eventId: change.eventId,
    eventName: change.eventName,
    eventTime: change.eventTime.toISOString(),
    userId: change.userId,
    activityId: change.activityId,
    activityType: change.activityType ?? null,
    previousActivityType: change.previousActivityType ?? null,
    changedAttributes: change.changedAttributes,
    auditRecord: auditLocation,
  };
  const text = [
    `[${decision.severity}] ${decision.summary}`,
    '',
    `Event:      ${change.eventName} at ${json.eventTime}`,
    `User:       ${change.userId}`,
    `Activity:   ${change.activityId} (${change.activityType ?? 'no type'})`,
    ...(change.eventName === 'MODIFY' ? [`Changed:    ${change.changedAttributes.join(', ')}`] : []),
    `Audit log:  ${auditLocation}`,
    `Event id:   ${change.eventId}`,
  ].join('\n');
  // SNS subjects: ASCII, no line breaks, at most 100 characters.
  const subject = `[${decision.severity}] ${decision.reason}: ${change.userId}`
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
  return { json, text, subject };
}
