package dev.bkg.inference.runner;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.google.protobuf.ByteString;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.inference.v1.ElementType;
import dev.bkg.proto.inference.v1.Tensor;

/**
 * A tensor on the Java side, between the wire ({@link Tensor}) and ONNX Runtime: its values as
 * little-endian bytes (any type but STRING) or as strings. Bytes make batching a concatenation and
 * splitting a slice, whatever the element type.
 */
record HostTensor(String name, ElementType type, long[] shape, byte[] bytes, String[] strings) {

    /** Bytes per element of a type (0 for STRING). */
    static int elementSize(ElementType type) {
        return switch (type) {
            case FLOAT, INT32 -> 4;
            case INT64, DOUBLE -> 8;
            case FLOAT16 -> 2;
            case BOOL, UINT8, INT8 -> 1;
            default -> 0;
        };
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    long count() {
        return count(shape);
    }

    /** A request's tensor: its values from raw_data or from the typed field of its type, checked against its shape. */
    static HostTensor of(Tensor t) {
        String name = t.getName();
        ElementType type = t.getElementType();
        if (type == ElementType.ELEMENT_TYPE_UNSPECIFIED || type == ElementType.UNRECOGNIZED) {
            throw invalid("input '" + name + "' has no element type");
        }
        long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
        long count;
        try {
            if (Arrays.stream(shape).anyMatch(d -> d < 0)) {
                throw invalid("input '" + name + "' has a negative dimension in its shape " + Arrays.toString(shape));
            }
            count = count(shape);
        } catch (ArithmeticException e) {
            throw invalid("input '" + name + "' has a shape too large: " + Arrays.toString(shape));
        }
        if (type == ElementType.STRING) {
            if (t.getStringDataCount() != count) {
                throw mismatch(name, t.getStringDataCount(), shape);
            }
            return new HostTensor(name, type, shape, null, t.getStringDataList().toArray(String[]::new));
        }
        int size = elementSize(type);
        if (!t.getRawData().isEmpty()) {
            if (t.getRawData().size() != count * size) {
                throw invalid("input '" + name + "' has " + t.getRawData().size() + " bytes of " + type + "; its shape "
                        + Arrays.toString(shape) + " needs " + count * size);
            }
            return new HostTensor(name, type, shape, t.getRawData().toByteArray(), null);
        }
        if (count * size > Integer.MAX_VALUE) {
            throw invalid("input '" + name + "' is larger than 2 GiB");
        }
        ByteBuffer out = ByteBuffer.allocate((int) (count * size)).order(ByteOrder.LITTLE_ENDIAN);
        int given = switch (type) {
            case FLOAT -> fill(t.getFloatDataCount(), count, name, shape, i -> out.putFloat(t.getFloatData(i)));
            case INT64 -> fill(t.getInt64DataCount(), count, name, shape, i -> out.putLong(t.getInt64Data(i)));
            case INT32 -> fill(t.getInt32DataCount(), count, name, shape, i -> out.putInt(t.getInt32Data(i)));
            case DOUBLE -> fill(t.getDoubleDataCount(), count, name, shape, i -> out.putDouble(t.getDoubleData(i)));
            case BOOL -> fill(t.getBoolDataCount(), count, name, shape, i -> out.put((byte) (t.getBoolData(i) ? 1 : 0)));
            default -> count == 0 ? 0 : -1;
        };
        if (given < 0) {
            throw invalid("input '" + name + "' is " + type + ": its values go in raw_data (little-endian)");
        }
        return new HostTensor(name, type, shape, out.array(), null);
    }

    private interface Put {
        void at(int index);
    }

    private static int fill(int given, long count, String name, long[] shape, Put put) {
        if (given != count) {
            throw mismatch(name, given, shape);
        }
        for (int i = 0; i < given; i++) {
            put.at(i);
        }
        return given;
    }

    private static Refusal mismatch(String name, long given, long[] shape) {
        return invalid("input '" + name + "' has " + given + " values; its shape " + Arrays.toString(shape) + " needs "
                + count(shape));
    }

    static Refusal invalid(String message) {
        return new Refusal(Refusal.Reason.INVALID, message);
    }

    Tensor toProto() {
        Tensor.Builder t = Tensor.newBuilder().setName(name).setElementType(type);
        for (long d : shape) {
            t.addShape(d);
        }
        if (strings != null) {
            t.addAllStringData(Arrays.asList(strings));
        } else {
            t.setRawData(ByteString.copyFrom(bytes));
        }
        return t.build();
    }

    /** A tensor whose raw_data is moved to the typed field of its type, where the type has one. */
    static Tensor typed(Tensor t) {
        if (t.getRawData().isEmpty()) {
            return t;
        }
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        Tensor.Builder out = t.toBuilder().clearRawData();
        switch (t.getElementType()) {
            case FLOAT -> {
                while (raw.hasRemaining()) {
                    out.addFloatData(raw.getFloat());
                }
            }
            case INT64 -> {
                while (raw.hasRemaining()) {
                    out.addInt64Data(raw.getLong());
                }
            }
            case INT32 -> {
                while (raw.hasRemaining()) {
                    out.addInt32Data(raw.getInt());
                }
            }
            case DOUBLE -> {
                while (raw.hasRemaining()) {
                    out.addDoubleData(raw.getDouble());
                }
            }
            case BOOL -> {
                while (raw.hasRemaining()) {
                    out.addBoolData(raw.get() != 0);
                }
            }
            default -> {
                return t;
            }
        }
        return out.build();
    }

    OnnxTensor toOnnx(OrtEnvironment env) throws OrtException {
        if (strings != null) {
            return OnnxTensor.createTensor(env, strings, shape);
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
        ByteBuffer little = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            direct.put(little);
        } else {
            throw new IllegalStateException("a big-endian machine is not supported");
        }
        direct.rewind();
        return OnnxTensor.createTensor(env, direct, shape, javaType(type));
    }

    /** An output of a run, copied off ONNX Runtime's memory. */
    static HostTensor fromOnnx(String name, OnnxTensor value) throws OrtException {
        TensorInfo info = value.getInfo();
        ElementType type = elementType(info);
        if (type == null) {
            throw new Refusal(Refusal.Reason.INVALID, "output '" + name + "' is " + info.onnxType
                    + ", a type this runner does not return; ask for other outputs");
        }
        long[] shape = info.getShape();
        if (type == ElementType.STRING) {
            List<String> flat = new ArrayList<>();
            flatten(value.getValue(), flat);
            return new HostTensor(name, type, shape, null, flat.toArray(String[]::new));
        }
        ByteBuffer buffer = value.getByteBuffer().order(ByteOrder.nativeOrder());
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return new HostTensor(name, type, shape, bytes, null);
    }

    private static void flatten(Object value, List<String> out) {
        if (value instanceof String s) {
            out.add(s);
        } else if (value != null && value.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(value); i++) {
                flatten(Array.get(value, i), out);
            }
        }
    }

    /** Our element type of an ONNX Runtime tensor type, or null for one the wire does not carry. */
    static ElementType elementType(TensorInfo info) {
        return switch (info.onnxType) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> ElementType.FLOAT;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> ElementType.INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> ElementType.INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> ElementType.DOUBLE;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> ElementType.BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> ElementType.STRING;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> ElementType.FLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> ElementType.UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> ElementType.INT8;
            default -> null;
        };
    }

    private static OnnxJavaType javaType(ElementType type) {
        return switch (type) {
            case FLOAT -> OnnxJavaType.FLOAT;
            case INT64 -> OnnxJavaType.INT64;
            case INT32 -> OnnxJavaType.INT32;
            case DOUBLE -> OnnxJavaType.DOUBLE;
            case BOOL -> OnnxJavaType.BOOL;
            case FLOAT16 -> OnnxJavaType.FLOAT16;
            case UINT8 -> OnnxJavaType.UINT8;
            case INT8 -> OnnxJavaType.INT8;
            default -> throw new IllegalArgumentException(type.name());
        };
    }

    /** Rows [from, from + rows) of the first dimension. */
    HostTensor rows(long from, long rows) {
        long[] part = shape.clone();
        part[0] = rows;
        long per = shape[0] == 0 ? 0 : count() / shape[0];
        if (strings != null) {
            return new HostTensor(name, type, part, null, Arrays.copyOfRange(strings, (int) (from * per), (int) ((from + rows) * per)));
        }
        int size = elementSize(type);
        return new HostTensor(name, type, part,
                Arrays.copyOfRange(bytes, (int) (from * per * size), (int) ((from + rows) * per * size)), null);
    }

    /** Tensors of the same name, type and trailing shape stacked along the first dimension. */
    static HostTensor stack(List<HostTensor> parts) {
        HostTensor first = parts.get(0);
        long[] shape = first.shape.clone();
        shape[0] = parts.stream().mapToLong(p -> p.shape[0]).sum();
        int total = parts.stream().mapToInt(p -> p.bytes.length).sum();
        byte[] bytes = new byte[total];
        int at = 0;
        for (HostTensor p : parts) {
            System.arraycopy(p.bytes, 0, bytes, at, p.bytes.length);
            at += p.bytes.length;
        }
        return new HostTensor(first.name, first.type, shape, bytes, null);
    }
}
