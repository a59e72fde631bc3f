/**
 * `--mqtt` and `--join` in a cluster: only the leader (leader.ts) runs the bridges, so each
 * message crosses to the other network once, not once per broker. They are opened when this
 * broker becomes the leader and closed when it stops being it (or closes); in between, `links$`
 * lists no link. Opening and closing are serialised, in the order of the leader's changes.
 */
import { BehaviorSubject, of, switchMap, type Observable, type Subscription } from 'rxjs';
import type { LinkState } from '../bridge/link-state.js';
import type { Bridges } from '../broker/bridges.js';
import { errorText } from '../internal/logger.js';
import type { Logger } from '../types.js';

/**
 * Run the bridges `open` makes while `leader$` says this broker leads.
 * @returns Bridges whose `links$` follows the bridges of the current term; `close` stops them.
 */
export function leaderBridges(open: () => Promise<Bridges | undefined>, leader$: Observable<boolean>, log: Logger): Bridges {
  const links = new BehaviorSubject<Observable<readonly LinkState[]>>(of([]));
  let current: Bridges | undefined;
  let chain = Promise.resolve();
  let closed = false;
  const stop = async (): Promise<void> => {
    const running = current;
    current = undefined;
    if (!links.closed) links.next(of([]));
    await running?.close();
  };
  const role: Subscription = leader$.subscribe((lead) => {
    chain = chain.then(async () => {
      if (!lead) return stop();
      if (closed || current !== undefined) return;
      try {
        current = await open();
      } catch (err) {
        log.error({ err: errorText(err) }, 'bridges of the cluster leader could not be opened');
        return;
      }
      if (closed) return stop();
      log.info('bridges opened: this broker leads the cluster');
      links.next(current?.links$ ?? of([]));
    });
  });
  return {
    links$: links.pipe(switchMap((l) => l)),
    close: async () => {
      closed = true;
      role.unsubscribe();
      await chain;
      await stop();
      links.complete();
    },
  };
}
