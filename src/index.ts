export { component, connect } from './component/component.js';
export { register, unregister } from './component/register.js';
export type { RegisterOptions } from './component/register.js';
export { admin, AdminCommandError, AdminUnauthorizedError, UnknownAdminCommandError } from './component/admin.js';
export type { Admin, BrokerConfig } from './component/admin.js';
export { Now, LastReceived, period } from './component/msgfrom.js';
export { useDataFrames } from './component/frames.js';
export { ArrowIpc, ipcFrames, arrowFrames } from './dataframe/frames.js';
export type { DataFrameCodec, ArrowModule } from './dataframe/frames.js';
export { parseComponentUrl, DEFAULT_BASE_URL } from './component/url.js';
export type { Component, ComponentOptions, Dialer } from './component/types.js';
export type { OverflowPolicy, PublishOptions } from './component/publisher.js';
export type { ComponentAddress } from './component/url.js';
export type {
  ActionContext, ActionEvent, ActionHandler, ActionOptions, CallOptions, ComponentPresence, ExposeOptions, GatherOptions,
  GatherReply, Handler, Logger, Message, PresenceEvent, PresenceState, QoS, RpcContext, Status, SubscribeOptions,
} from './types.js';
export {
  RembusError, ConnectionError, ConnectionClosedError, AuthError, InvalidTopicError, EncodeError, DecodeError,
  ProtocolError, RpcTimeoutError, MethodNotFoundError, RpcError, QueueFullError, AckTimeoutError, ActionPreemptedError,
  QuorumError, NotSupportedError, UnauthorizedError, TwinLimitError, NameTakenError, UnsupportedSchemeError,
  MissingPackageError, InvalidOptionError, statusName,
} from './errors.js';
