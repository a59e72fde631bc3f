// Test an application flow as a marble diagram, in virtual time: a sensor, the broker and an
// alarm service, the service's link dropped for a while — it still raises every alarm, once.
// Run: npx vitest run examples/virtual-time.test.ts   (needs `npm run build` for 'rembus/testing')
import { filter, map, mergeMap, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect, it } from 'vitest';
import { LastReceived, type Component } from 'rembus';
import { virtualNetwork } from 'rembus/testing';

/** The application under test: raise a QoS1 alarm for every reading above 80 °C. */
function alarmService(node: Component): Observable<void> {
  return node.subscribe$<[number]>('plant/*/temp', { msgfrom: LastReceived }).pipe(
    filter((m) => m.args[0] > 80),
    mergeMap((m) => node.publish$('alarm', [m.topic, m.args[0]], { qos: 1 })),
  );
}

it('raises every alarm once, even across a dropped link', async () => {
  const net = virtualNetwork({
    scheduler: new TestScheduler((actual, expected) => expect(actual).toEqual(expected)),
  });
  await net.run(({ cold, expectObservable }) => {
    const sensor = net.component('sensor');
    const service = net.component('alarm-service', { reconnect: { initialDelay: 100, jitter: 0 } });
    const operator = net.component('operator');
    alarmService(service).subscribe();

    // Readings every 10 ms; the service's link drops at 25 and is back at 125.
    cold('10ms a 9ms b 9ms c 9ms d', { a: 70, b: 85, c: 90, d: 60 })
      .subscribe((t) => sensor.publish('plant/7/temp', t));
    net.scheduler.schedule(() => net.drop('alarm-service'), 25);

    // 85 is alarmed live at 20; 90, published while the service was away, on its return at 125.
    expectObservable(operator.subscribe$('alarm').pipe(map((m) => m.args[1]))).toBe('20ms x 104ms y', { x: 85, y: 90 });
  });
});
