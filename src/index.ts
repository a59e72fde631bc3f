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
export type { OverflowPolicy, PublishOptions } from './component/publish-options.js';
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
export { topic, isTopicContract } from './contracts/topic.js';
export { method, isMethodContract } from './contracts/method.js';
export {
  ContractValidationError, ContractParamsError, ContractAsyncError, ContractRefusedError,
} from './contracts/errors.js';
export { ContractTableError } from './contracts/query.js';
export type { ContractStage } from './contracts/errors.js';
export type {
  TopicContract, TopicContractOptions, TopicInput, TopicValue, TopicRow, ContractTable, ContractColumn,
} from './contracts/topic.js';
export type { MethodContract, MethodArgs, MethodParams, MethodResult, MethodHandler, ArgsSchema } from './contracts/method.js';
export type { Params, ParamNames } from './contracts/params.js';
export type { ContractMessage } from './contracts/client.js';
export type { ContractQueryOptions } from './contracts/query.js';
export type { InvalidValue } from './contracts/violations.js';
export type { StandardSchemaV1, StandardJSONSchemaV1 } from './contracts/standard-schema.js';
export {
  QueryError, UnknownTableError, LiveQueryUnsupportedError, LiveQueryLimitError, LiveQueryEndedError,
} from './protocol/live-query.js';
export type { QueryOptions, LiveQueryOptions, LiveQueryEvent } from './component/query.js';
