package mgm.runtime.profile;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A model phase (image encode, prefill, decode) or layer as a JDK Flight Recorder event
 * ({@code mgm.Region}): the ops ({@link OpEvent}) of a thread that fall inside it belong to it.
 */
@Name("mgm.Region")
@Label("Model phase or layer")
@Category({"mgm", "Model"})
@Description("A phase or layer of model code marked through Backend.phase / Backend.layer")
@StackTrace(false)
final class RegionEvent extends jdk.jfr.Event {
    @Label("Kind")
    @Description("phase or layer")
    String kind;

    @Label("Name")
    String name;

    @Label("Index")
    @Description("Layer index, -1 for phases")
    int index;
}
