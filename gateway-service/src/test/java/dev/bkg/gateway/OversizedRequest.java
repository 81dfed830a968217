package dev.bkg.gateway;

import java.net.Socket;
import java.nio.charset.StandardCharsets;

import io.restassured.RestAssured;

/**
 * A POST announcing {@code length} bytes with Expect: 100-continue, over a raw socket: the gateway
 * must refuse it from the headers alone (a client that sent the whole body would see its pipe broken
 * when the gateway closes). Answers the raw HTTP response.
 */
final class OversizedRequest {

    private OversizedRequest() {
    }

    static String announce(String path, long length) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + length + "\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
