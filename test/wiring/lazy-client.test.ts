import { describe, expect, it } from 'vitest';
import { lazyClient } from '../../lib/wiring/clients/lazy-client.ts';

class FakeClient {
  static built = 0;
  readonly region = 'eu-west-1';
  sent: string[] = [];
  constructor() {
    FakeClient.built += 1;
  }
  send(command: string): string {
    this.sent.push(command);
    return `${this.region}:${command}`;
  }
}

describe('lazyClient', () => {
  it('builds nothing until the first call, then builds once and keeps `this` bound', () => {
    FakeClient.built = 0;
    const client = lazyClient(() => new FakeClient());
    expect(FakeClient.built).toBe(0);
    const { send } = client;
    expect(send('A')).toBe('eu-west-1:A');
    expect(client.send('B')).toBe('eu-west-1:B');
    expect(client.sent).toEqual(['A', 'B']);
    expect(FakeClient.built).toBe(1);
    expect(client instanceof FakeClient).toBe(true);
  });

  it('never builds a client nobody calls', () => {
    let built = 0;
    lazyClient(() => {
      built += 1;
      return new FakeClient();
    });
    expect(built).toBe(0);
  });
});
