package dev.bkg.gateway.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Base64;

import jakarta.ws.rs.core.MultivaluedMap;

import org.jboss.resteasy.reactive.multipart.FileUpload;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;

import dev.bkg.proto.face.v1.Box;
import dev.bkg.proto.face.v1.Image;

/**
 * What a face request carries, however it came: an image as a multipart file or as base64 in a
 * JSON field (a {@code data:image/...;base64,} prefix accepted), and options as JSON fields or
 * query parameters (the JSON field wins). Shared by /api/face and the CompreFace-shaped routes.
 */
final class FaceInput {

    private final JsonNode body;
    private final MultivaluedMap<String, String> query;

    FaceInput(JsonNode body, MultivaluedMap<String, String> query) {
        if (body != null && !body.isNull() && !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object");
        }
        this.body = body;
        this.query = query;
    }

    /** The image in JSON field {@code field} (base64). */
    Image image(String field) {
        JsonNode value = body == null ? null : body.get(field);
        if (value == null || value.isNull()) {
            throw ProblemException.badRequest("\"" + field + "\" is needed: the image as base64");
        }
        if (!value.isTextual()) {
            throw ProblemException.badRequest("\"" + field + "\" must be the image as a base64 string");
        }
        String text = value.asText();
        int comma = text.startsWith("data:") ? text.indexOf(',') : -1;
        try {
            return Image.newBuilder().setData(ByteString.copyFrom(Base64.getMimeDecoder().decode(text.substring(comma + 1))))
                    .build();
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("\"" + field + "\" is not valid base64: " + e.getMessage());
        }
    }

    /** The image of a multipart part (400 when the part is missing). */
    static Image image(FileUpload file, String part) {
        if (file == null) {
            throw ProblemException.badRequest("the multipart part \"" + part + "\" (the image) is needed");
        }
        try {
            return Image.newBuilder().setData(ByteString.copyFrom(Files.readAllBytes(file.uploadedFile())))
                    .setContentType(file.contentType() == null ? "" : file.contentType()).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String text(String name) {
        JsonNode value = body == null ? null : body.get(name);
        if (value != null && !value.isNull()) {
            if (!value.isValueNode()) {
                throw ProblemException.badRequest(name + " must be a string or a number");
            }
            return value.asText();
        }
        return query == null ? null : query.getFirst(name);
    }

    float number(String name, float fallback) {
        String text = text(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            float value = Float.parseFloat(text.trim());
            if (!Float.isFinite(value)) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(name + " must be a number; was '" + text + "'");
        }
    }

    int integer(String name, int fallback) {
        String text = text(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(name + " must be a whole number; was '" + text + "'");
        }
    }

    boolean flag(String name) {
        String text = text(name);
        return text != null && (text.equalsIgnoreCase("true") || text.equals("1"));
    }

    /**
     * A box: JSON {@code "box": {x, y, width, height}} or query box_x, box_y, box_width, box_height;
     * null when none is given.
     */
    Box box() {
        JsonNode box = body == null ? null : body.get("box");
        if (box != null && !box.isNull()) {
            if (!box.isObject() || !box.path("x").isNumber() || !box.path("y").isNumber() || !box.path("width").isNumber()
                    || !box.path("height").isNumber()) {
                throw ProblemException.badRequest("box must be {\"x\", \"y\", \"width\", \"height\"} in pixels");
            }
            return Box.newBuilder().setX((float) box.get("x").asDouble()).setY((float) box.get("y").asDouble())
                    .setWidth((float) box.get("width").asDouble()).setHeight((float) box.get("height").asDouble()).build();
        }
        if (text("box_x") == null && text("box_y") == null && text("box_width") == null && text("box_height") == null) {
            return null;
        }
        return Box.newBuilder().setX(number("box_x", Float.NaN)).setY(number("box_y", Float.NaN))
                .setWidth(number("box_width", Float.NaN)).setHeight(number("box_height", Float.NaN)).build();
    }
}
