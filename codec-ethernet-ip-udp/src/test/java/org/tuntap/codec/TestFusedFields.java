package org.tuntap.codec;

/** Makes {@link FusedFields} (package-private to the stack) for tests of other packages. */
public final class TestFusedFields {

    private TestFusedFields() {
    }

    /** Empty fields, as a stack starts with. */
    public static FusedFields create() {
        return new FusedFields();
    }
}
