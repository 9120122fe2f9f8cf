/** Minimal XML text helpers shared by the query and rest-xml codecs. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === '<'
        ? '&lt;'
        : c === '>'
          ? '&gt;'
          : c === '"'
            ? '&quot;'
            : c === "'"
              ? '&apos;'
              : '&#13;',
  );
}

export const tag = (name: string, inner: string) => `<${name}>${inner}</${name}>`;
