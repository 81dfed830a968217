package dev.bkg.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;

/** Marks a test field that receives the {@link EmbeddedPostgresServer} of {@link EmbeddedPostgresTestResource}. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface InjectEmbeddedPostgres {
}
