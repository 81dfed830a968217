package dev.bkg.launcher;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;

/**
 * The mesh's PostgreSQL: the one {@code BKG_DB_URL} names (checked to answer before anything
 * starts), or else an embedded server whose data lives under {@code $BKG_HOME/db}.
 */
final class Database implements AutoCloseable {

    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final String password;
    private final EmbeddedPostgresServer embedded;

    private Database(String host, int port, String database, String user, String password,
            EmbeddedPostgresServer embedded) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password;
        this.embedded = embedded;
    }

    static Database open(Env env, Path home) {
        String url = env.get("BKG_DB_URL", null);
        return url == null ? embedded(home) : external(url, env);
    }

    private static Database embedded(Path home) {
        try {
            Path logs = Files.createDirectories(home.resolve("logs"));
            EmbeddedPostgresServer server = EmbeddedPostgresServer.start(Ports.free(), home.resolve("db"),
                    logs.resolve("postgres.log"));
            return new Database("127.0.0.1", server.port(), EmbeddedPostgresServer.DATABASE,
                    EmbeddedPostgresServer.USER, null, server);
        } catch (RuntimeException | java.io.IOException e) {
            throw new LauncherException("the embedded PostgreSQL did not start: " + e.getMessage()
                    + " (see " + home.resolve("logs/postgres.log") + ")");
        }
    }

    /** {@code postgresql://[user[:password]@]host[:port]/database}; BKG_DB_USER/BKG_DB_PASSWORD also work. */
    private static Database external(String url, Env env) {
        URI uri;
        try {
            uri = new URI(url.startsWith("jdbc:") ? url.substring(5) : url);
        } catch (URISyntaxException e) {
            throw new LauncherException("BKG_DB_URL is not a URL: " + e.getMessage());
        }
        if (!("postgresql".equals(uri.getScheme()) || "postgres".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new LauncherException("BKG_DB_URL must look like postgresql://user:password@host:5432/database");
        }
        String user = env.get("BKG_DB_USER", "postgres");
        String password = env.get("BKG_DB_PASSWORD", null);
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : password;
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        Database db = new Database(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432,
                path.isEmpty() ? "postgres" : path, user, password, null);
        db.checkItAnswers();
        return db;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private void checkItAnswers() {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("loginTimeout", "10");
        try (Connection connection = DriverManager.getConnection(jdbcUrl(), props)) {
            connection.isValid(5);
        } catch (SQLException e) {
            throw new LauncherException("the database at " + host + ":" + port + "/" + database
                    + " (BKG_DB_URL) does not answer: " + e.getMessage());
        }
    }

    private String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** What a service with a database gets in its environment (never on its command line). */
    Map<String, String> serviceEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("QUARKUS_DATASOURCE_REACTIVE_URL", "postgresql://" + host + ":" + port + "/" + database);
        env.put("QUARKUS_DATASOURCE_USERNAME", user);
        if (password != null) {
            env.put("QUARKUS_DATASOURCE_PASSWORD", password);
        }
        return env;
    }

    String describe() {
        return (embedded != null ? "embedded PostgreSQL" : "PostgreSQL") + " at " + host + ":" + port + "/" + database;
    }

    /** The embedded postmaster's pid, or -1 for an external database. */
    long pid() {
        return embedded == null ? -1 : embedded.pid();
    }

    /** Restarts the embedded server if its postmaster died; false when nothing was to be done (or it is external). */
    boolean restartIfDead() {
        return embedded != null && embedded.restartIfDead();
    }

    @Override
    public void close() {
        if (embedded != null) {
            embedded.close();
        }
    }
}
