/**
 * The small part of @xmpp/client 0.14 (which ships no types) that the bridge uses.
 */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  export interface Element {
    readonly name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
  }

  export interface Client extends EventEmitter {
    jid?: JID;
    status: string;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(element: Element): Promise<void>;
    reconnect: EventEmitter & { stop(): void; delay: number };
  }

  export interface ClientOptions {
    service: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
  }

  export function client(options: ClientOptions): Client;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
  export function jid(address: string): JID;
}
