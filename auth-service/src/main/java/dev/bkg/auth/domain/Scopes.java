package dev.bkg.auth.domain;

import java.util.List;
import java.util.Set;

/** The scopes a key or session can hold; {@code admin} implies every other one. */
public final class Scopes {

    public static final String ADMIN = "admin";
    public static final List<String> ALL = List.of(ADMIN, "plugins:read", "plugins:write", "models:read",
            "models:write", "inference", "face", "telemetry:read", "keys:manage");
    private static final Set<String> KNOWN = Set.copyOf(ALL);

    private Scopes() {
    }

    public static boolean isKnown(String scope) {
        return KNOWN.contains(scope);
    }

    /** What a user may do: everything for admins, else the scopes named as the user's roles. */
    public static List<String> of(User user) {
        return user.admin ? ALL : user.roleList().stream().filter(KNOWN::contains).toList();
    }
}
