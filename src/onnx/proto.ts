/**
 * ONNX protobuf (de)serialisation. onnx-proto ships protobufjs classes generated from onnx.proto (IR 8).
 * Fields newer than that are dropped on re-encode, which is why augmentation keeps the original
 * opset imports and IR version and only adds nodes.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type IModelProto = onnxProto.onnx.IModelProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type INodeProto = onnxProto.onnx.INodeProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const DataType = onnxProto.onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Version of the default ("" / "ai.onnx") operator set the model imports. */
export function defaultOpset(model: IModelProto): number {
  for (const imp of model.opsetImport ?? []) {
    if (!imp.domain || imp.domain === 'ai.onnx') return Number(imp.version ?? 0);
  }
  return 0;
}
