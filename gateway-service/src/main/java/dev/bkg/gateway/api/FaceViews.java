package dev.bkg.gateway.api;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.proto.face.v1.Face;
import dev.bkg.proto.face.v1.Point;
import dev.bkg.proto.face.v1.Subject;
import dev.bkg.proto.face.v1.Timings;

/** face-service's messages as the REST API's JSON (snake_case, ISO times, boxes in pixels). */
final class FaceViews {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private FaceViews() {
    }

    static ObjectNode face(Face face) {
        ObjectNode out = JSON.objectNode();
        out.putObject("box").put("x", face.getBox().getX()).put("y", face.getBox().getY())
                .put("width", face.getBox().getWidth()).put("height", face.getBox().getHeight());
        out.put("score", face.getScore());
        ArrayNode landmarks = out.putArray("landmarks");
        for (Point p : face.getLandmarksList()) {
            landmarks.addObject().put("x", p.getX()).put("y", p.getY());
        }
        return out;
    }

    static ObjectNode subject(Subject subject) {
        return JSON.objectNode().put("name", subject.getName()).put("face_count", subject.getFaceCount())
                .put("created", Instant.ofEpochMilli(subject.getCreatedEpochMs()).toString());
    }

    static ObjectNode image(int width, int height) {
        return JSON.objectNode().put("width", width).put("height", height);
    }

    /** The stages' times in ms, or null when none were asked for. */
    static ObjectNode timings(Timings timings) {
        if (timings.getStagesMsCount() == 0) {
            return null;
        }
        ObjectNode out = JSON.objectNode();
        timings.getStagesMsMap().forEach((stage, ms) -> out.put(stage, Math.round(ms * 100) / 100.0));
        return out;
    }
}
