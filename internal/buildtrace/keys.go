package buildtrace

import "go.opentelemetry.io/otel/attribute"

// Attributes of the stageline namespace: what no semantic convention covers
// (stages, Dockerfile lines, cache hits, layer bytes). docs/traces.md lists
// them with the semantic-convention ones; keep the two in step.
const (
	// On the build span.
	KeyDockerfile          = attribute.Key("stageline.dockerfile")
	KeyTarget              = attribute.Key("stageline.target")
	KeyPlatforms           = attribute.Key("stageline.platforms")
	KeyStatus              = attribute.Key("stageline.build.status")
	KeyHitRatio            = attribute.Key("stageline.cache.hit_ratio")
	KeyUserSteps           = attribute.Key("stageline.cache.user_steps")
	KeyUserStepsCached     = attribute.Key("stageline.cache.user_steps_cached")
	KeyImageBytes          = attribute.Key("stageline.image.compressed_bytes")
	KeyImageUncompressed   = attribute.Key("stageline.image.uncompressed_bytes")
	KeyImageDigest         = attribute.Key("stageline.image.digest")
	KeySpansDropped        = attribute.Key("stageline.spans_dropped")
	KeyStage               = attribute.Key("stageline.stage")
	KeyPlatform            = attribute.Key("stageline.platform")
	KeyStageBase           = attribute.Key("stageline.stage.base")
	KeyStageBaseDigest     = attribute.Key("stageline.stage.base_digest")
	KeyStageStepsTotal     = attribute.Key("stageline.stage.steps_total")
	KeyStageStepsCached    = attribute.Key("stageline.stage.steps_cached")
	KeyStageWallMS         = attribute.Key("stageline.stage.wall_ms")
	KeyStageCritical       = attribute.Key("stageline.stage.critical")
	KeyStepIndex           = attribute.Key("stageline.step.index")
	KeyStepDigest          = attribute.Key("stageline.step.digest")
	KeyStepInternal        = attribute.Key("stageline.step.internal")
	KeyCached              = attribute.Key("stageline.cached")
	KeyLine                = attribute.Key("stageline.dockerfile.line")
	KeyLayerBytes          = attribute.Key("stageline.layer.compressed_bytes")
	KeyLayerUncompressed   = attribute.Key("stageline.layer.uncompressed_bytes")
	KeyMissFirst           = attribute.Key("stageline.cache.miss.first")
	KeyMissCause           = attribute.Key("stageline.cache.miss.cause")
	KeyMissCostMS          = attribute.Key("stageline.cache.miss.cost_ms")
	KeyMissRebuiltSteps    = attribute.Key("stageline.cache.miss.rebuilt_steps")
	KeyMissChangedArgNames = attribute.Key("stageline.cache.miss.names")
)
