import { parseArgs } from 'node:util';

export const MAIL_HELP = `Usage: eddy mail [options]

Print the local mailbox: what SNS email and email-json subscriptions received (confirmation
requests with their confirm link, and notifications). Reads from a running Eddy.

Options:
  --endpoint <url>     Eddy's endpoint (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)
  --to <address>       Only mail sent to this address
  --json               Print the raw JSON
  --clear              Empty the mailbox
  -h, --help           Show this help
`;

interface Mail {
  id: number;
  to: string;
  from: string;
  subject: string;
  body: string;
  date: string;
  type?: string;
  confirmUrl?: string;
}

/** `eddy mail`: read (or clear) the running server's mailbox at GET/DELETE /_eddy/mail. */
export async function mailCommand(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      endpoint: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
      clear: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out(MAIL_HELP);
    return 0;
  }
  const endpoint = (values.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566').replace(/\/+$/, '');
  const url = `${endpoint}/_eddy/mail${values.to ? `?to=${encodeURIComponent(values.to)}` : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { method: values.clear ? 'DELETE' : 'GET' });
  } catch (e) {
    process.stderr.write(
      `eddy mail: cannot reach Eddy at ${endpoint} (${(e as Error).message}). Is \`eddy serve\` running?\n`,
    );
    return 1;
  }
  if (!res.ok) {
    process.stderr.write(`eddy mail: ${url} answered HTTP ${res.status}\n`);
    return 1;
  }
  if (values.clear) {
    out('Mailbox cleared.\n');
    return 0;
  }
  const { messages } = (await res.json()) as { messages: Mail[] };
  if (values.json) {
    out(`${JSON.stringify(messages, null, 2)}\n`);
    return 0;
  }
  if (!messages.length) {
    out('The mailbox is empty.\n');
    return 0;
  }
  for (const m of messages) {
    out(`── #${m.id}  ${m.date}\nFrom:    ${m.from}\nTo:      ${m.to}\nSubject: ${m.subject}\n`);
    if (m.confirmUrl) out(`Confirm: ${m.confirmUrl}\n`);
    out(`\n${m.body}\n\n`);
  }
  return 0;
}
