/** The JSON shapes of the gateway's API (gateway-service api/*Views, proto JSON for brainml). */

export interface LoginReply { token: string; expiresAt: string; username: string; admin: boolean; scopes: string[]; }

export interface PluginStatus {
  pluginId: string; state: string; pid: number | null; since: string | null; restarts: number;
  lastExitCode: number; message: string; nextRestartAt: string | null;
}

export interface JsonSchema {
  type?: string; description?: string; default?: unknown; enum?: unknown[];
  minimum?: number; maximum?: number; minLength?: number; maxLength?: number; pattern?: string;
  properties?: Record<string, JsonSchema>; required?: string[];
}

export interface Plugin {
  id: string; name: string; description: string; autostart: boolean; capabilities: string[]; port: number;
  transport: string; available: boolean; unavailableReason: string | null; configSchema: JsonSchema | null;
  status: PluginStatus;
}

export interface PluginConfig { pluginId: string; config: Record<string, unknown> | null; version: number; updatedAt: string | null; updatedBy: string | null; }

export interface LogLine { seq: number; timestamp: string; stream: string; level: string; text: string; }

export interface Sample { metric: string; value: number; t: number; labels?: Record<string, string>; }

export interface SourceView { name: string; kind: string; up: boolean; lastSeen: number | null; figures: Record<string, number>; }
export interface PluginFigures { id: string; state: string; available: boolean; up: boolean; lastSeen: number | null; figures: Record<string, number>; }
/** state: READY when every core service and autostart plugin is, else DEGRADED naming them in notReady (as ./bkg status). */
export interface MeshOverview { state: 'READY' | 'DEGRADED'; notReady: string[]; telemetryAvailable: boolean; telemetryDetail: string; services: SourceView[]; plugins: PluginFigures[]; }

export interface ModelFile { name: string; sizeBytes: number; sha256: string; }
export interface Model {
  id: string; name: string; kind: string; format: string; files: ModelFile[]; totalSizeBytes: number; source: string;
  status: string; statusMessage: string | null; jobId: string | null; created: string; updated: string;
  validation: { ok: boolean; message: string; durationMs: number; inputs?: TensorInfo[]; outputs?: TensorInfo[] } | null;
}
export interface DownloadStarted { jobId: string; modelId: string; joinedExisting: boolean; progress: string; }
export interface Progress {
  jobId: string; modelId: string; state: string; bytesDone: number; bytesTotal: number | null;
  rateBytesPerSecond: number; etaMs: number | null; currentFile: string | null; message: string | null;
}

export interface ApiKey {
  id: string; name: string; prefix: string; scopes: string[]; owner: string; created: string;
  expiresAt: string | null; lastUsed: string | null; revoked: boolean; revokedAt: string | null;
}
export interface CreatedKey { id: string; key: string; info: ApiKey; }

export interface Collection { name: string; embeddingModel: string; dimensions: number; documents: string | number; }
export interface Hit { id: string; score: number; text: string; metadata: Record<string, string>; label: string; }
export interface QueryReply { hits: Hit[]; predictedLabel: string; labelConfidence: number; durationUs: string | number; }

/** face-service over the gateway (/api/face): boxes and landmarks in pixels of the original image, origin top left. */
export interface FaceBox { x: number; y: number; width: number; height: number; }
export interface FacePoint { x: number; y: number; }
/** landmarks: right eye, left eye, nose tip, mouth, right ear, left ear (the subject's own right and left). */
export interface Face { box: FaceBox; score: number; landmarks: FacePoint[]; }
export interface ImageSize { width: number; height: number; }
export interface DetectReply { image: ImageSize; detector: string; faces: Face[]; timings?: Record<string, number>; }
export interface FaceMatch { subject: string; similarity: number; }
export interface RecognizedFace { face: Face; matches: FaceMatch[]; }
export interface RecognizeReply { image: ImageSize; threshold: number; faces: RecognizedFace[]; timings?: Record<string, number>; }
export interface Subject { name: string; face_count: number; created: string; }
export interface EnrolReply { face_id: string; subject: Subject; face: Face; }

/**
 * candle over the gateway (/api/candle, proto JSON: int64s as strings, enums as names). The catalog's validation
 * uses the same tensor shape, but with lowercase element types ("float") and numbers for the shape.
 */
export interface TensorInfo { name: string; elementType: string; shape: (string | number)[]; }
export interface LoadedModel {
  modelId: string; name: string; provider: string; inputs: TensorInfo[]; outputs: TensorInfo[]; loadMs: string;
  loadedAtEpochMs: string; lastUsedEpochMs: string; expiresAtEpochMs: string; memoryBytes: string; inferences: string;
  dynamicBatch: boolean; graphFile: string;
}
export interface LoadedModels { models?: LoadedModel[]; memoryBudgetBytes: string; memoryUsedBytes: string; }
export interface QuantizeReply {
  newModelId: string; newModelName: string; sizeBeforeBytes: string; sizeAfterBytes: string; durationMs: string;
  quantizedWeights: number; quantizedOps?: string[]; maxAbsError: number | string; minCosine: number | string;
  meanCosine: number | string; samples: number; checkMs: string;
}
/** The Open Inference Protocol v2 (/v2/models/{model}/infer): one tensor, its data flat in row-major order. */
export interface OipTensor { name: string; datatype: string; shape: number[]; data?: unknown[]; }
export interface InferReply {
  model_name: string; model_version?: string; outputs: OipTensor[];
  parameters?: { duration_us?: number; queue_us?: number; batch_requests?: number; provider?: string };
}
