package dev.bkg.face.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The gallery's search answers the same whether it scans every face or walks the HNSW graph, the
 * graph takes over from the scan once built in the background (writes made meanwhile included),
 * and removals are seen by both.
 */
class FaceIndexTest {

    static final int DIMENSIONS = 64;

    static float[] randomUnit(Random random) {
        float[] v = new float[DIMENSIONS];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        FaceEmbedder.normalise(v);
        return v;
    }

    static float[] near(float[] v, Random random) {
        float[] q = v.clone();
        for (int i = 0; i < q.length; i++) {
            q[i] += (float) random.nextGaussian() * 0.05f;
        }
        FaceEmbedder.normalise(q);
        return q;
    }

    @Test
    void theGraphTakesOverAndAgreesWithTheExactScan() throws InterruptedException {
        Random random = new Random(7);
        int faces = 4000;
        float[][] vectors = new float[faces][];
        FaceIndex exact = new FaceIndex(Integer.MAX_VALUE);
        FaceIndex graph = new FaceIndex(1000);
        for (int i = 0; i < faces; i++) {
            // two faces per subject, like two photos of one person
            vectors[i] = i % 2 == 0 ? randomUnit(random) : near(vectors[i - 1], random);
            exact.add("f" + i, i / 2, vectors[i]);
            graph.add("f" + i, i / 2, vectors[i]);
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!graph.usesGraph() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(graph.usesGraph(), "the HNSW graph was built in the background");
        assertFalse(exact.usesGraph());
        assertEquals(faces, graph.size());

        int agree = 0;
        for (int q = 0; q < 200; q++) {
            int target = random.nextInt(faces);
            float[] query = near(vectors[target], random);
            List<FaceIndex.Hit> fromScan = exact.bestSubjects(query, 3);
            List<FaceIndex.Hit> fromGraph = graph.bestSubjects(query, 3);
            assertEquals(target / 2, fromScan.get(0).subjectId());
            assertEquals(3, fromGraph.size());
            if (fromGraph.get(0).subjectId() == fromScan.get(0).subjectId()) {
                agree++;
                assertEquals(fromScan.get(0).similarity(), fromGraph.get(0).similarity(), 1e-6f, "similarities are exact");
            }
        }
        assertTrue(agree >= 198, "graph and scan agree on the best subject: " + agree + " of 200");

        // a removed face is gone from both; a removed subject too
        float[] query = near(vectors[10], random);
        exact.remove("f10");
        graph.remove("f10");
        assertEquals(5, exact.bestSubjects(query, 1).get(0).subjectId()); // f11, the subject's other face
        assertEquals(5, graph.bestSubjects(query, 1).get(0).subjectId());
        exact.removeSubject(5);
        graph.removeSubject(5);
        assertTrue(exact.bestSubjects(query, 1).get(0).subjectId() != 5);
        assertTrue(graph.bestSubjects(query, 1).get(0).subjectId() != 5);
        assertEquals(faces - 2, graph.size());
        graph.close();
    }

    @Test
    void anEmptyIndexFindsNothing() {
        FaceIndex index = new FaceIndex(10);
        assertEquals(List.of(), index.bestSubjects(new float[DIMENSIONS], 1));
    }
}
