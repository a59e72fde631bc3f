/**
 * Entry `rembus/mqtt`: Rembus components on a plain MQTT 5 broker (spec §9). MQTT.js is an
 * optional peer, imported only from here.
 */
export { mqttComponent } from './mqtt-component.js';
export { toMqttFilter, validateMqttTopic } from './translate.js';
export { rpcTopics } from './rpc-topics.js';
export type { RpcTopics } from './rpc-topics.js';
export type { MqttComponentOptions } from './types.js';
