package dev.bkg.gateway.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

/**
 * REST bodies that are typed gRPC messages in their JSON form (camelCase fields, int64 as strings,
 * default values printed; unknown fields refused with a 400), for the routes that pass a typed
 * request through as it is (brainml, candle).
 */
final class ProtoJson {

    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().alwaysPrintFieldsWithNoPresence();

    private ProtoJson() {
    }

    /** The body merged into the builder; an empty body leaves it as it is. */
    static <B extends Message.Builder> B parse(String body, B builder) {
        if (body == null || body.isBlank()) {
            return builder;
        }
        try {
            JsonFormat.parser().merge(body, builder);
            return builder;
        } catch (InvalidProtocolBufferException e) {
            throw ProblemException.badRequest("the body does not fit: " + e.getMessage());
        }
    }

    static String print(Message message) {
        try {
            return PRINTER.print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
