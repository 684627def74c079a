package mgm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import mgm.model.testing.TestBackends;
import mgm.model.testing.TinyModels;
import mgm.runtime.DType;
import org.junit.jupiter.api.Test;

/** Where the vision towers come from: folders, overrides, or the checkpoint itself. */
class TowerResolutionTest {
    private static final Path NOWHERE = Path.of("/nonexistent/tower");

    private static MgmModel.Options options(String model, Path clip, Path aux) {
        return new MgmModel.Options(TinyModels.model(model), clip, aux, WeightFormat.STORED, TestBackends.fastest(),
                0, DType.F32, 64, false, MgmModel.LoadProgress.NONE);
    }

    @Test
    void aConvNextInsideTheCheckpointNeedsNoFolder() {
        try (MgmModel m = MgmModel.load(options("MGM-tiny-vicuna-hd", null, NOWHERE))) {
            assertTrue(m.isMultimodal());
            assertEquals(2880, m.tokensPerImage(), "HD: 5 x 576 visual tokens");
        }
    }

    @Test
    void aClipInsideTheCheckpointWithoutItsConfigNeedsReadableHeads() {
        // The tiny CLIP is 32 wide: its head count cannot come from the weights (real CLIP-L, 1024 wide, can).
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MgmModel.load(options("MGM-tiny-vicuna-hd", NOWHERE, null)));
        assertTrue(e.getMessage().contains("--vision-tower"), e.getMessage());
    }

    @Test
    void aMissingTowerNamesEveryPathTriedAndWhatToDownload() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MgmModel.load(options("MGM-tiny-vicuna", NOWHERE, null)));
        assertTrue(e.getMessage().contains(NOWHERE.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("openai/clip-vit-large-patch14-336"), e.getMessage());
    }

    @Test
    void configuredRelativeTowerPathsResolveAgainstTheModelFolderParents() {
        Path model = TinyModels.model("MGM-tiny-vicuna");
        Path found = TowerLocator.locate(TowerLocator.Kind.CLIP, "model_zoo/OpenAI/clip-vit-large-patch14-336", null, model);
        assertEquals(TinyModels.root().resolve("model_zoo/OpenAI/clip-vit-large-patch14-336").toAbsolutePath().normalize(), found);
    }
}
