package dev.bkg.model.domain;

import java.util.regex.Pattern;

/** What a file name inside a model may be: a relative path of plain segments, never absolute, never "..". */
public final class ModelFiles {

    static final int MAX_NAME = 200;
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,99}");

    private ModelFiles() {
    }

    /** The name, or an IllegalArgumentException saying why it is refused. */
    public static String checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME) {
            throw new IllegalArgumentException("a file name must have 1 to " + MAX_NAME + " characters");
        }
        for (String segment : name.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.equals("..") || segment.equals(".")) {
                throw new IllegalArgumentException("file name '" + printable(name) + "' must be a relative path of "
                        + "segments made of letters, digits, '.', '_', '+', '-' (no '..', no absolute path)");
            }
        }
        return name;
    }

    static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
