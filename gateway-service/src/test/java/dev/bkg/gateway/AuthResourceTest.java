package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** /api/auth and the guard on every route, through the real gateway → gRPC → auth-service → PostgreSQL. */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class AuthResourceTest {

    /** A short validation cache, so that revocation and outage behaviour show within a test. */
    public static class ShortCache implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // a socket may fall 2,000 messages (4 s of SocketPressureTest's 500 lines/s) behind before it is
            // skipped: all these sockets' readers share the test JVM with the gateway, and a test that just
            // ended (a chat model pulled and loaded) can stall them past the default 1,000 on two cores
            return Map.of("bkg.gateway.auth-cache-ttl", "PT3S", "bkg.gateway.ws.max-pending-messages", "2000");
        }
    }

    @Backends.Inject
    Backends backends;

    final List<String> logLines = Collections.synchronizedList(new ArrayList<>());
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logLines.add(record.getMessage() + " " + java.util.Arrays.toString(record.getParameters()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLogs() {
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void stopCapturing() {
        Logger.getLogger("").removeHandler(capture);
    }

    static String login() {
        return given().contentType(ContentType.JSON)
                .body(Map.of("username", "admin", "password", Backends.ADMIN_PASSWORD))
                .when().post("/api/auth/login")
                .then().statusCode(200).body("expiresAt", notNullValue()).body("scopes", hasItem("admin"))
                .extract().path("token");
    }

    private static volatile String adminSession;

    /**
     * An admin session shared by the tests that are not about logging in: logins are rate-limited per
     * client address (and all tests come from one), so each test logging in anew would hit the limit.
     */
    static String admin() {
        String session = adminSession;
        if (session == null || given().auth().oauth2(session).when().get("/api/auth/me").statusCode() != 200) {
            adminSession = session = login();
        }
        return session;
    }

    static Response createKey(String session, Map<String, Object> body) {
        return given().auth().oauth2(session).contentType(ContentType.JSON).body(body)
                .when().post("/api/auth/keys");
    }

    @Test
    void loginGivesASessionTokenThatIdentifiesTheCaller() {
        String token = login();
        given().auth().oauth2(token).when().get("/api/auth/me").then().statusCode(200)
                .body("username", is("admin")).body("kind", is("SESSION")).body("admin", is(true))
                .header("X-RateLimit-Limit", notNullValue());
    }

    @Test
    void badLoginsAreProblemsNotErrors() throws Exception {
        given().contentType(ContentType.JSON).body(Map.of("username", "admin", "password", "wrong-password"))
                .when().post("/api/auth/login").then().statusCode(401)
                .contentType("application/problem+json").body("title", is("Unauthorized"));
        given().contentType(ContentType.JSON).body(Map.of("username", "admin", "password", ""))
                .when().post("/api/auth/login").then().statusCode(400).contentType("application/problem+json");
        given().contentType(ContentType.JSON).body("{not json")
                .when().post("/api/auth/login").then().statusCode(400).contentType("application/problem+json");
        String oversized = OversizedRequest.announce("/api/auth/login", 2_000_000);
        assertTrue(oversized.startsWith("HTTP/1.1 413"), oversized);
        assertTrue(oversized.contains("Content-Type: application/problem+json"), oversized);
        assertTrue(oversized.contains("\"status\":413"), oversized);
    }

    @Test
    void everyApiRouteNeedsAValidCredential() {
        given().when().get("/api/auth/me").then().statusCode(401).contentType("application/problem+json")
                .header("WWW-Authenticate", "Bearer");
        given().auth().oauth2("bkg_0123456789ab_not-a-real-secret").when().get("/api/auth/me").then().statusCode(401)
                .body("detail", is("the credential is not valid"));
        given().header("Authorization", "Basic YWRtaW46YWRtaW4=").when().get("/api/auth/keys").then().statusCode(401);
        given().when().get("/q/health/live").then().statusCode(200);
    }

    @Test
    void aKeyIsShownOnceListedWithoutItsSecretAndStopsWorkingWithinTheCacheTtlOfItsRevocation() throws Exception {
        String session = login();
        Response created = createKey(session, Map.of("name", "ci", "scopes", List.of("models:read", "keys:manage")));
        created.then().statusCode(201).body("key", startsWith("bkg_")).body("info.prefix", startsWith("bkg_"));
        String key = created.path("key");
        String id = created.path("id");
        String secret = key.substring(key.indexOf('_', 4) + 1);

        given().header("x-api-key", key).when().get("/api/auth/me").then().statusCode(200)
                .body("kind", is("KEY")).body("keyId", is(id));
        given().auth().oauth2(key).when().get("/api/auth/keys").then().statusCode(200)
                .body("id", hasItem(id)).body(not(containsString(secret)));

        given().auth().oauth2(session).when().delete("/api/auth/keys/" + id).then().statusCode(200)
                .body("revoked", is(true));
        long deadline = System.currentTimeMillis() + 3_000 + 1_500;
        int status;
        do {
            Thread.sleep(250);
            status = given().auth().oauth2(key).when().get("/api/auth/me").statusCode();
        } while (status == 200 && System.currentTimeMillis() < deadline);
        given().auth().oauth2(key).when().get("/api/auth/me").then().statusCode(401)
                .body("detail", is("the credential is revoked"));
        synchronized (logLines) {
            logLines.forEach(line -> assertFalse(line.contains(secret), "the key's secret reached a log line"));
        }
    }

    @Test
    void aRouteNeedsItsScope() {
        String key = createKey(login(), Map.of("name", "inference only", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        given().auth().oauth2(key).when().get("/api/auth/keys").then().statusCode(403)
                .contentType("application/problem+json").body("detail", containsString("keys:manage"));
        given().auth().oauth2(key).when().get("/api/auth/me").then().statusCode(200);
    }

    @Test
    void aKeysRateLimitAnswers429WithRetryAfterAndHeaders() {
        String key = createKey(login(), Map.of("name", "slow", "scopes", List.of("inference"), "rateLimitPerMinute", 3))
                .then().statusCode(201).extract().path("key");
        for (int i = 0; i < 3; i++) {
            given().auth().oauth2(key).when().get("/api/auth/me").then().statusCode(200)
                    .header("X-RateLimit-Limit", "3").header("X-RateLimit-Remaining", String.valueOf(2 - i));
        }
        given().auth().oauth2(key).when().get("/api/auth/me").then().statusCode(429)
                .contentType("application/problem+json").header("Retry-After", notNullValue())
                .header("X-RateLimit-Limit", "3").header("X-RateLimit-Remaining", "0");
    }

    @Test
    void badKeyRequestsAreProblemsAndOddNamesAreKeptAsGiven() {
        String session = login();
        createKey(session, Map.of("name", "", "scopes", List.of("inference"))).then().statusCode(400)
                .contentType("application/problem+json");
        createKey(session, Map.of("name", "x", "scopes", List.of("superuser"))).then().statusCode(400)
                .body("detail", containsString("unknown scope"));
        createKey(session, Map.of("name", "x", "scopes", List.of("inference"), "expiresAt", "tomorrow"))
                .then().statusCode(400).body("detail", containsString("ISO-8601"));
        createKey(session, Map.of("name", "'; DROP TABLE auth.api_keys; --", "scopes", List.of("inference")))
                .then().statusCode(201).body("info.name", equalTo("'; DROP TABLE auth.api_keys; --"));
        createKey(session, Map.of("name", "ключ 🔑", "scopes", List.of("inference")))
                .then().statusCode(201).body("info.name", equalTo("ключ 🔑"));
        given().auth().oauth2(session).when().delete("/api/auth/keys/doesnotexist").then().statusCode(404)
                .contentType("application/problem+json");
    }

    @Test
    void adminsManageUsersAndAUserDeletedLosesAccessAtOnce() {
        String admin = login();
        given().auth().oauth2(admin).contentType(ContentType.JSON)
                .body(Map.of("username", "reader", "password", "reader-password-1", "roles", List.of("models:read")))
                .when().post("/api/auth/users").then().statusCode(201).body("admin", is(false));
        given().auth().oauth2(admin).contentType(ContentType.JSON)
                .body(Map.of("username", "reader", "password", "reader-password-1"))
                .when().post("/api/auth/users").then().statusCode(409).contentType("application/problem+json");
        given().auth().oauth2(admin).contentType(ContentType.JSON)
                .body(Map.of("username", "weak", "password", "x"))
                .when().post("/api/auth/users").then().statusCode(400).contentType("application/problem+json");
        given().auth().oauth2(admin).when().get("/api/auth/users").then().statusCode(200)
                .body("username", hasItem("reader"));

        String reader = given().contentType(ContentType.JSON)
                .body(Map.of("username", "reader", "password", "reader-password-1"))
                .when().post("/api/auth/login").then().statusCode(200).body("scopes", hasItem("models:read"))
                .extract().path("token");
        given().auth().oauth2(reader).when().get("/api/auth/users").then().statusCode(403);
        given().auth().oauth2(reader).contentType(ContentType.JSON)
                .body(Map.of("currentPassword", "wrong", "newPassword", "reader-password-2"))
                .when().post("/api/auth/password").then().statusCode(403).contentType("application/problem+json");
        given().auth().oauth2(reader).when().get("/api/auth/me").then().statusCode(200).body("username", is("reader"));

        given().auth().oauth2(admin).when().delete("/api/auth/users/reader").then().statusCode(200)
                .body("endedSessions", is(1));
        given().auth().oauth2(reader).when().get("/api/auth/me").then().statusCode(401);
        given().auth().oauth2(admin).when().delete("/api/auth/users/reader").then().statusCode(404);
        given().auth().oauth2(admin).when().delete("/api/auth/users/admin").then().statusCode(409);
    }

    @Test
    void aKeyMayOnlyGrantScopesItHoldsAndIsNoAdminForItsOwnersSake() {
        String manager = createKey(admin(), Map.of("name", "manager", "scopes", List.of("keys:manage", "inference")))
                .then().statusCode(201).extract().path("key");
        createKey(manager, Map.of("name", "stronger", "scopes", List.of("admin"))).then().statusCode(403)
                .contentType("application/problem+json").body("detail", containsString("'admin'"));
        createKey(manager, Map.of("name", "weaker", "scopes", List.of("inference"))).then().statusCode(201);
        // the key's owner is an admin, the key is not
        given().auth().oauth2(manager).when().get("/api/auth/keys?all=true").then().statusCode(403);
    }

    @Test
    void whileAuthServiceIsDownCachedCredentialsWorkAndOthersGet503() {
        String session = login();
        String cached = createKey(session, Map.of("name", "cached", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        String uncached = createKey(session, Map.of("name", "uncached", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        given().auth().oauth2(cached).when().get("/api/auth/me").then().statusCode(200);
        backends.auth().kill();
        try {
            given().auth().oauth2(cached).when().get("/api/auth/me").then().statusCode(200);
            given().auth().oauth2(uncached).when().get("/api/auth/me").then().statusCode(503)
                    .contentType("application/problem+json").header("Retry-After", notNullValue());
        } finally {
            backends.auth().start();
        }
        given().auth().oauth2(uncached).when().get("/api/auth/me").then().statusCode(200);
    }
}
