export interface ServerEvent {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id?: string;
}

/** Server-sent events from a response body, as the EventSource spec reads them (comments and retry ignored; lines end in \n or \r\n). */
export async function* readEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let event: { event?: string; id?: string; data?: string[] } = {};
  const field = (line: string): ServerEvent | undefined => {
    if (line === '') {
      const ready = event.data ? { event: event.event ?? 'message', data: event.data.join('\n'), ...(event.id !== undefined && { id: event.id }) } : undefined;
      event = {};
      return ready;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return undefined;
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') (event.data ??= []).push(value);
    else if (name === 'event') event.event = value;
    else if (name === 'id') event.id = value;
    return undefined;
  };
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const ready = field(line.replace(/\r$/, ''));
      if (ready) yield ready;
    }
  }
}
