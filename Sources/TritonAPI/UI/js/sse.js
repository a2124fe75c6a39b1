// Server-Sent Events over fetch (EventSource cannot send the Authorization header): each frame's id is
// a global log position; a dropped stream (the server restarting) is reopened with Last-Event-ID, so it
// resumes exactly after the last frame it delivered.

import { authHeaders } from './api.js';

const liveState = new Set();

/** The header's live indicator: "live" while every stream is open, "reconnecting" while one is not. */
function showLive() {
  const element = document.getElementById('live');
  if (!element) return;
  const states = [...liveState].map((stream) => stream.state);
  const state = states.length === 0 ? 'idle' : states.includes('reconnecting') ? 'reconnecting' : states.includes('connecting') ? 'connecting' : 'live';
  element.dataset.state = state;
  element.textContent = state;
}

/**
 * Follows `path`. `onFrame({id, event, data})` gets each frame (data parsed as JSON); returning `false`
 * from it closes the stream for good. `lastEventId` resumes after a position seen before.
 */
export function follow(path, onFrame, { lastEventId = null } = {}) {
  const stream = { state: 'connecting', lastEventId, stopped: false, controller: null };
  liveState.add(stream);
  showLive();

  function stop() {
    stream.stopped = true;
    stream.controller?.abort();
    liveState.delete(stream);
    showLive();
  }

  async function run() {
    let delay = 250;
    while (!stream.stopped) {
      try {
        stream.controller = new AbortController();
        const headers = { ...authHeaders(), Accept: 'text/event-stream' };
        if (stream.lastEventId !== null) headers['Last-Event-ID'] = String(stream.lastEventId);
        const response = await fetch(path, { headers, signal: stream.controller.signal, cache: 'no-store' });
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          onFrame({ id: null, event: 'error', data: { status: response.status } });
          stop();
          return;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        stream.state = 'live';
        showLive();
        delay = 250;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame = { id: null, event: 'message', data: null };
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
              else if (line.startsWith('event: ')) frame.event = line.slice(7);
              else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
            }
            if (frame.id !== null) stream.lastEventId = frame.id;
            if (onFrame(frame) === false) { stop(); return; }
          }
        }
      } catch (error) {
        if (stream.stopped) return;
      }
      if (stream.stopped) return;
      // The stream ended or broke: reconnect, backing off up to 4 s.
      stream.state = 'reconnecting';
      showLive();
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 4000);
    }
  }

  run();
  return { stop };
}
