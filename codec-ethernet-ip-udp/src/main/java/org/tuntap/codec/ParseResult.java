package org.tuntap.codec;

import java.util.Objects;

/**
 * The outcome of parsing a buffer: either a value or the {@link DropReason} it was refused for.
 * Used by the convenience parsers ({@code Ipv4Packet.parse}, {@code UdpPackets.parse}), which
 * report bad input instead of throwing.
 */
public final class ParseResult<T> {

    private final T value;
    private final DropReason failure;

    private ParseResult(T value, DropReason failure) {
        this.value = value;
        this.failure = failure;
    }

    /**
     * A success.
     *
     * @param <T> the type of value
     * @param value the parsed value, not null
     * @return a result holding {@code value}
     */
    public static <T> ParseResult<T> ok(T value) {
        return new ParseResult<>(Objects.requireNonNull(value, "value"), null);
    }

    /**
     * A failure.
     *
     * @param <T> the type of value the parse would have made
     * @param reason why the input was refused
     * @return a result holding {@code reason}
     */
    public static <T> ParseResult<T> failed(DropReason reason) {
        return new ParseResult<>(null, Objects.requireNonNull(reason, "reason"));
    }

    /** Whether parsing succeeded: {@link #value()} is there. */
    public boolean isOk() {
        return failure == null;
    }

    /** The parsed value; throws {@link IllegalStateException} if parsing failed. */
    public T value() {
        if (failure != null) {
            throw new IllegalStateException("parse failed: " + failure);
        }
        return value;
    }

    /** Why parsing failed, or null if it succeeded. */
    public DropReason failure() {
        return failure;
    }

    @Override
    public String toString() {
        return failure == null ? "ParseResult[ok " + value + "]" : "ParseResult[failed " + failure + "]";
    }
}
