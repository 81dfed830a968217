package dev.bkg.proto.plugin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

import dev.bkg.proto.plugin.v1.InvokeResponse;
import io.grpc.Status;

/**
 * A service's typed request and response carried over the plugin bus as JSON (the messages' proto
 * JSON form), the way inference (brainml.*) and face (rustyface.face.*) plugins answer Invoke.
 */
public final class TypedPayloads {

    private TypedPayloads() {
    }

    /** The request in {@code json}; INVALID_ARGUMENT naming the mismatch when it does not fit. */
    @SuppressWarnings("unchecked")
    public static <T extends Message> T parse(String json, Message.Builder builder) {
        try {
            JsonFormat.parser().merge(json, builder);
            return (T) builder.build();
        } catch (InvalidProtocolBufferException e) {
            throw Status.INVALID_ARGUMENT.withDescription("payload does not fit the request: " + e.getMessage()).asRuntimeException();
        }
    }

    /** The response as the Invoke reply's JSON payload. */
    public static InvokeResponse reply(Message response) {
        try {
            return InvokeResponse.newBuilder().setPayloadJson(JsonFormat.printer().print(response)).build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
