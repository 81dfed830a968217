package dev.bkg.face.domain;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.panache.common.Sort;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;

/**
 * Subjects and their faces in PostgreSQL (schema face), for callers on worker threads: each call
 * runs its own transaction on a Vert.x context and waits for it, so a write is all or nothing.
 */
@ApplicationScoped
public class GalleryStore {

    public List<SubjectRecord> subjects() {
        return await(() -> SubjectRecord.<SubjectRecord>listAll(Sort.by("name")));
    }

    public Optional<SubjectRecord> subject(String name) {
        return Optional.ofNullable(await(() -> SubjectRecord.<SubjectRecord>find("name", name).firstResult()));
    }

    public SubjectRecord createSubject(String name) {
        SubjectRecord subject = new SubjectRecord();
        subject.name = name;
        subject.createdAt = Instant.now();
        return await(() -> Panache.withTransaction(() -> subject.persist()).replaceWith(subject));
    }

    /** Renames; false when the subject is gone. */
    public boolean renameSubject(long id, String newName) {
        return await(() -> Panache.withTransaction(() -> SubjectRecord.update("name = ?1 where id = ?2", newName, id)))
                > 0;
    }

    /** Deletes the subject and its faces in one transaction; answers how many faces went. */
    public long deleteSubject(long id) {
        return await(() -> Panache.withTransaction(() -> FaceRecord.delete("subjectId", id)
                .call(() -> SubjectRecord.deleteById(id))));
    }

    /** Stores a face, in one transaction with a check that its subject still exists (false: it does not). */
    public boolean addFace(FaceRecord face) {
        return await(() -> Panache.withTransaction(() -> SubjectRecord.findById(face.subjectId).chain(subject -> subject == null
                ? Uni.createFrom().item(false) : face.persist().replaceWith(true))));
    }

    public List<FaceRecord> faces(long subjectId) {
        return await(() -> FaceRecord.<FaceRecord>find("subjectId", Sort.by("createdAt"), subjectId).list());
    }

    public Optional<FaceRecord> face(String id) {
        return Optional.ofNullable(await(() -> FaceRecord.<FaceRecord>findById(id)));
    }

    public boolean deleteFace(String id) {
        return await(() -> Panache.withTransaction(() -> FaceRecord.deleteById(id)));
    }

    /** Every face in id order after {@code afterId}, a page at a time (to rebuild the search index at start). */
    public List<FaceRecord> page(String afterId, int size) {
        return await(() -> FaceRecord.<FaceRecord>find("id > ?1", Sort.by("id"), afterId).page(0, size).list());
    }

    /** Faces per subject id (subjects without faces absent). */
    public java.util.Map<Long, Long> faceCounts() {
        List<Object[]> rows = await(() -> Panache.getSession().chain(session -> session
                .createSelectionQuery("select f.subjectId, count(f) from FaceRecord f group by f.subjectId", Object[].class)
                .getResultList()));
        java.util.Map<Long, Long> counts = new java.util.HashMap<>();
        rows.forEach(row -> counts.put((Long) row[0], (Long) row[1]));
        return counts;
    }

    public long faceCount(long subjectId) {
        return await(() -> FaceRecord.count("subjectId", subjectId));
    }

    private static <T> T await(Supplier<Uni<T>> work) {
        try {
            return VertxContextSupport.subscribeAndAwait(() -> Panache.withSession(work::get));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
