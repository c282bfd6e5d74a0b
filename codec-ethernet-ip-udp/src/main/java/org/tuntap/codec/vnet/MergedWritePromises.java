package org.tuntap.codec.vnet;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;

import java.util.ArrayList;
import java.util.List;

/**
 * Completes the promises of the packets merged into one super-packet when the super-packet's
 * write completes, with its outcome. Void promises are skipped (nothing listens to them).
 */
final class MergedWritePromises implements ChannelFutureListener {

    private final ChannelPromise[] promises;

    MergedWritePromises(List<ChannelPromise> promises) {
        this.promises = promises.toArray(new ChannelPromise[0]);
    }

    /** The promises of the held packets a super-packet was built from. */
    static MergedWritePromises of(List<HeldPacket> members) {
        List<ChannelPromise> promises = new ArrayList<>(members.size());
        for (HeldPacket member : members) {
            promises.add(member.promise);
        }
        return new MergedWritePromises(promises);
    }

    /** Whether every promise is void, so the write may take a void promise too. */
    boolean allVoid() {
        for (ChannelPromise promise : promises) {
            if (!promise.isVoid()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void operationComplete(ChannelFuture future) {
        Throwable cause = future.cause();
        for (ChannelPromise promise : promises) {
            if (promise.isVoid()) {
                continue;
            }
            if (cause == null) {
                promise.trySuccess();
            } else {
                promise.tryFailure(cause);
            }
        }
    }

    /** Fails every promise with {@code cause} (the super-packet could not be built). */
    void fail(Throwable cause) {
        for (ChannelPromise promise : promises) {
            promise.tryFailure(cause);
        }
    }
}
