package dev.bkg.face.domain;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * Subjects and their enrolled faces: the database holds them (GalleryStore), the search index
 * (FaceIndex) mirrors it for 1:N recognition — filled from the database at start (readiness waits
 * for it) and changed only after a write has committed, so a failed write leaves neither changed.
 * Blocking: call it from worker threads.
 */
@ApplicationScoped
public class Gallery {

    private static final Logger LOG = Logger.getLogger(Gallery.class);
    private static final int PAGE = 2000;
    static final int MAX_NAME = 255;

    /** A subject with its number of faces. */
    public record Subject(String name, int faceCount, Instant created) {
    }

    /** A subject that matched, with its best face's cosine similarity. */
    public record Match(String subject, float similarity) {
    }

    /** A stored face as listed. */
    public record StoredFace(String id, String subject, float x, float y, float width, float height, String sourceSha256,
            Instant created, boolean imageStored) {
    }

    private final GalleryStore store;
    private final FaceSettings settings;
    private final FaceIndex index;
    private final Map<Long, String> names = new ConcurrentHashMap<>();
    private volatile String problem = "the gallery is loading";
    private volatile boolean closed;

    Gallery(GalleryStore store, FaceSettings settings) {
        this.store = store;
        this.settings = settings;
        this.index = new FaceIndex(settings.hnswFrom());
    }

    void start(@Observes StartupEvent started) {
        RetriedStart.begin("face-gallery-loader", "the gallery cannot be read from the database", this::load, p -> problem = p,
                () -> closed);
    }

    private void load() {
        long started = System.nanoTime();
        store.subjects().forEach(s -> names.put(s.id, s.name));
        String after = "";
        int faces = 0;
        for (List<FaceRecord> page = store.page(after, PAGE); !page.isEmpty(); page = store.page(after, PAGE)) {
            for (FaceRecord face : page) {
                index.add(face.id, face.subjectId, vector(face.embedding));
                after = face.id;
                faces++;
            }
        }
        LOG.infof("face gallery loaded: %d subjects, %d faces in %d ms", names.size(), faces,
                (System.nanoTime() - started) / 1_000_000);
    }

    /** Null once loaded; else why not. */
    public String problem() {
        return problem;
    }

    public int faceCount() {
        return index.size();
    }

    public boolean searchUsesGraph() {
        return index.usesGraph();
    }

    public List<Subject> subjects() {
        ready();
        Map<Long, Long> counts = store.faceCounts();
        return store.subjects().stream().map(s -> new Subject(s.name, counts.getOrDefault(s.id, 0L).intValue(), s.createdAt))
                .toList();
    }

    /** One subject with its face count (NOT_FOUND when there is none by that name). */
    public Subject subject(String name) {
        ready();
        SubjectRecord subject = existing(name);
        return new Subject(subject.name, (int) store.faceCount(subject.id), subject.createdAt);
    }

    public Subject createSubject(String name) {
        ready();
        String checked = checkedName(name);
        if (store.subject(checked).isPresent()) {
            throw taken(checked);
        }
        SubjectRecord created;
        try {
            created = store.createSubject(checked);
        } catch (RuntimeException e) {
            if (store.subject(checked).isPresent()) { // created by a concurrent request meanwhile
                throw taken(checked);
            }
            throw e;
        }
        names.put(created.id, created.name);
        return new Subject(created.name, 0, created.createdAt);
    }

    public Subject renameSubject(String name, String newName) {
        ready();
        SubjectRecord subject = existing(name);
        String checked = checkedName(newName);
        if (!checked.equals(subject.name) && store.subject(checked).isPresent()) {
            throw taken(checked);
        }
        try {
            if (!store.renameSubject(subject.id, checked)) {
                throw unknown(name);
            }
        } catch (Refusal refusal) {
            throw refusal;
        } catch (RuntimeException e) {
            if (store.subject(checked).isPresent()) {
                throw taken(checked);
            }
            throw e;
        }
        names.put(subject.id, checked);
        return new Subject(checked, (int) store.faceCount(subject.id), subject.createdAt);
    }

    /** Deletes a subject and its faces; answers how many faces went. */
    public long deleteSubject(String name) {
        ready();
        SubjectRecord subject = existing(name);
        long deleted = store.deleteSubject(subject.id);
        index.removeSubject(subject.id);
        names.remove(subject.id);
        return deleted;
    }

    /** Stores an embedded face under a subject (the source image kept only when configured). */
    public StoredFace enrol(String subjectName, FacePipeline.Embedded face, byte[] source) {
        ready();
        SubjectRecord subject = existing(subjectName);
        FaceRecord record = new FaceRecord();
        record.id = "f_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        record.subjectId = subject.id;
        record.embedding = bytes(face.vector());
        record.boxX = face.face().x();
        record.boxY = face.face().y();
        record.boxWidth = face.face().width();
        record.boxHeight = face.face().height();
        record.sourceSha256 = sha256(source);
        record.image = settings.storeImages() ? source : null;
        record.createdAt = Instant.now();
        if (!store.addFace(record)) {
            throw unknown(subjectName); // deleted meanwhile
        }
        index.add(record.id, subject.id, face.vector());
        return view(record, subject.name);
    }

    public List<StoredFace> faces(String subjectName) {
        ready();
        SubjectRecord subject = existing(subjectName);
        return store.faces(subject.id).stream().map(f -> view(f, subject.name)).toList();
    }

    /** Deletes one face; answers its subject's name. */
    public String deleteFace(String faceId) {
        ready();
        FaceRecord face = store.face(faceId).orElseThrow(() -> new Refusal(Refusal.Reason.NOT_FOUND, "no face '" + faceId + "'"));
        if (!store.deleteFace(faceId)) {
            throw new Refusal(Refusal.Reason.NOT_FOUND, "no face '" + faceId + "'");
        }
        index.remove(faceId);
        return names.getOrDefault(face.subjectId, "");
    }

    /** The best {@code wanted} subjects at or above {@code threshold}, best first. */
    public List<Match> recognise(float[] vector, int wanted, float threshold) {
        ready();
        List<Match> matches = new ArrayList<>();
        for (FaceIndex.Hit hit : index.bestSubjects(vector, wanted)) {
            String name = names.get(hit.subjectId());
            if (name != null && hit.similarity() >= threshold) {
                matches.add(new Match(name, hit.similarity()));
            }
        }
        return matches;
    }

    private void ready() {
        if (problem != null) {
            throw new Refusal(Refusal.Reason.NOT_READY, problem);
        }
    }

    private SubjectRecord existing(String name) {
        return store.subject(name == null ? "" : name).orElseThrow(() -> unknown(name));
    }

    static String checkedName(String name) {
        String trimmed = name == null ? "" : name.strip();
        if (trimmed.isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "a subject needs a name");
        }
        if (trimmed.length() > MAX_NAME) {
            throw new Refusal(Refusal.Reason.INVALID, "a subject's name has at most " + MAX_NAME + " characters; this one has "
                    + trimmed.length());
        }
        if (trimmed.codePoints().anyMatch(Character::isISOControl)) {
            throw new Refusal(Refusal.Reason.INVALID, "a subject's name cannot hold control characters");
        }
        return trimmed;
    }

    private static Refusal unknown(String name) {
        return new Refusal(Refusal.Reason.NOT_FOUND, "no subject '" + name + "'");
    }

    private static Refusal taken(String name) {
        return new Refusal(Refusal.Reason.CONFLICT, "a subject named '" + name + "' exists already");
    }

    private static StoredFace view(FaceRecord f, String subject) {
        return new StoredFace(f.id, subject, f.boxX, f.boxY, f.boxWidth, f.boxHeight, f.sourceSha256, f.createdAt, f.image != null);
    }

    static byte[] bytes(float[] vector) {
        ByteBuffer buffer = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : vector) {
            buffer.putFloat(v);
        }
        return buffer.array();
    }

    static float[] vector(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] vector = new float[bytes.length / 4];
        for (int i = 0; i < vector.length; i++) {
            vector[i] = buffer.getFloat();
        }
        return vector;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @PreDestroy
    void close() {
        closed = true;
        index.close();
    }
}
