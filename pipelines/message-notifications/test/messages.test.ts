/** Message parsing and notification text: pure functions, no I/O. */
import { describe, expect, it } from 'vitest';
import { PoisonRecordError } from '../../shared/stream-event.ts';
import { messageFromImage, notificationFor, parseRecord } from '../src/messages.ts';
import { messageItem, streamRecord } from './events.ts';

describe('messages', () => {
  it('notifies for INSERTs only', () => {
    const item = messageItem('m1', 'alice', 'Hello world!');
    expect(parseRecord(streamRecord('INSERT', { new: item }))).toMatchObject({
      action: 'notify',
      message: { message_id: 'm1', author: 'alice', content: 'Hello world!' },
    });
    const edited = messageItem('m1', 'alice', 'Hello world!!');
    expect(parseRecord(streamRecord('MODIFY', { old: item, new: edited })).action).toBe('skip');
    expect(parseRecord(streamRecord('REMOVE', { old: item })).action).toBe('skip');
  });

  it('rejects items that are not messages as poison', () => {
    const poison = (image: any) =>
      expect(() => parseRecord(streamRecord('INSERT', { new: image }))).toThrow(PoisonRecordError);
    poison({ message_id: { S: 'm2' }, author: { S: 'bob' } });
    poison(messageItem('m3', 'bob', 'x', undefined, { content: { N: '1' } }));
    poison(messageItem('m4', '  ', 'x'));
    poison(messageItem('m5', 'bob', 'x', undefined, { reply_to_message_id: { S: '' } }));
    expect(() => messageFromImage(messageItem('m6', 'bob', 'x', undefined, { timestamp: { N: '5' } }))).toThrow(
      PoisonRecordError,
    );
  });

  it('quotes the original message under a reply', () => {
    const original = messageFromImage(messageItem('m1', 'bob', "What's for lunch?"));
    const reply = messageFromImage(messageItem('m2', 'charlie', 'Pizza!', 'm1'));
    const n = notificationFor(reply, original, 'e1');
    expect(n.subject).toBe('Reply from charlie to bob');
    expect(n.json).toMatchObject({
      type: 'REPLY',
      message: { content: 'Pizza!' },
      original: { content: "What's for lunch?" },
    });
    expect(n.text).toContain('charlie replied to bob');
    expect(n.text).toContain("  What's for lunch?");
    const orphan = notificationFor(reply, null, 'e2');
    expect(orphan.subject).toBe('Reply from charlie');
    expect(orphan.json.original).toBeNull();
    expect(orphan.text).toContain('no longer available');
    const plain = notificationFor(original, undefined, 'e3');
    expect(plain.subject).toBe('New message from bob');
    expect(plain.json).not.toHaveProperty('original');
  });
});
