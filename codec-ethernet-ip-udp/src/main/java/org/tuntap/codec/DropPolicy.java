package org.tuntap.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.util.internal.logging.InternalLogger;

/**
 * What a codec does with a malformed packet: count it, log it at debug level, and either drop
 * it quietly (the default) or, in strict mode, also raise a {@link DecoderException} that the
 * pipeline delivers to {@code exceptionCaught}. Never closes the channel.
 */
public final class DropPolicy {

    private final DropCounters counters = new DropCounters();
    private final InternalLogger logger;
    private volatile boolean strict;

    /**
     * A policy in quiet mode with its own counters.
     *
     * @param logger where drops are logged, at debug level
     */
    public DropPolicy(InternalLogger logger) {
        this.logger = logger;
    }

    /** The counters this policy increments. */
    public DropCounters counters() {
        return counters;
    }

    /** Whether a drop also raises a {@link DecoderException}; see {@link #setStrict(boolean)}. */
    public boolean isStrict() {
        return strict;
    }

    /** Strict mode: a drop also raises a {@link DecoderException} naming the reason. */
    public void setStrict(boolean strict) {
        this.strict = strict;
    }

    /**
     * Counts and logs one outbound packet dropped (never throws: the caller fails the write's
     * promise instead).
     */
    public void dropOutbound(ChannelHandlerContext ctx, DropReason reason, Object detail) {
        counters.increment(reason);
        if (logger.isDebugEnabled()) {
            logger.debug("{} dropped an outbound packet: {} ({})", ctx == null ? "-" : ctx.channel(), reason, detail);
        }
    }

    /**
     * Counts and logs one dropped packet; in strict mode throws. The caller still owns (and
     * must release) the packet.
     */
    public void drop(ChannelHandlerContext ctx, DropReason reason, Object detail) {
        counters.increment(reason);
        if (logger.isDebugEnabled()) {
            logger.debug("{} dropped a packet: {} ({})", ctx == null ? "-" : ctx.channel(), reason, detail);
        }
        if (strict) {
            throw new DecoderException("dropped a packet: " + reason + " (" + detail + ")");
        }
    }
}
