package org.tuntap.codec.fragment;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.Future;

import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link FragmentReassembler}'s expiry on the channel's event loop: one task, scheduled
 * for the oldest datagram's deadline on the loop's own clock, moved earlier when a new deadline
 * is sooner. Used by the reassembly handlers of both families.
 */
final class ExpiryTimer {

    private final FragmentReassembler reassembler;
    private Future<?> task;
    private long deadline = Long.MAX_VALUE;

    ExpiryTimer(FragmentReassembler reassembler) {
        this.reassembler = reassembler;
    }

    /** Makes sure a task runs at the reassembler's next deadline, if it has one. */
    void schedule(ChannelHandlerContext ctx) {
        long next = reassembler.nextExpiry();
        if (next == Long.MAX_VALUE || task != null && deadline <= next) {
            return;
        }
        if (task != null) {
            task.cancel(false);
        }
        deadline = next;
        long delay = Math.max(0, next - ctx.executor().ticker().nanoTime());
        task = ctx.executor().schedule(() -> {
            task = null;
            deadline = Long.MAX_VALUE;
            reassembler.expire();
            schedule(ctx);
        }, delay, TimeUnit.NANOSECONDS);
    }

    void cancel() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
