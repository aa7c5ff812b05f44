//! Adding one grant to an ACL (boto's `add_email_grant` / `add_user_grant`): read the ACL,
//! add the grant unless it is there, write the whole ACL back.

use super::{Call, Flow, Job, Reply, Sent, Step};
use crate::acl::{Grantee, Permission};
use crate::error::Error;
use crate::name::{BucketName, ObjectKey};
use crate::ops::{GetBucketAcl, GetObjectAcl, PutBucketAcl, PutObjectAcl};

/// The read-modify-write of one grant on a bucket or a key (see [`crate::flow`]).
///
/// ```
/// use s3_proto::acl::{Grantee, Permission};
/// use s3_proto::flow::acl::AddGrant;
/// use s3_proto::flow::{Call, Flow, Step, Work};
///
/// let mut flow = AddGrant::bucket("bucket".parse()?, Grantee::user("id"), Permission::Read);
/// let Step::Send(job) = flow.poll() else { unreachable!() };
/// assert!(matches!(job.work, Work::Call(Call::GetBucketAcl(_))));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct AddGrant {
    bucket: BucketName,
    key: Option<ObjectKey>,
    grant: (Grantee, Permission),
    /// The next call, or `None` while one is out.
    next: Option<Call>,
    done: Option<Result<(), Error>>,
}

impl AddGrant {
    /// Grants `permission` on `bucket` to `grantee`.
    pub fn bucket(bucket: BucketName, grantee: Grantee, permission: Permission) -> Self {
        let next = Some(GetBucketAcl::new(bucket.clone()).into());
        AddGrant {
            bucket,
            key: None,
            grant: (grantee, permission),
            next,
            done: None,
        }
    }

    /// Grants `permission` on `key` in `bucket` to `grantee`.
    pub fn key(
        bucket: BucketName,
        key: ObjectKey,
        grantee: Grantee,
        permission: Permission,
    ) -> Self {
        let next = Some(GetObjectAcl::new(bucket.clone(), key.clone()).into());
        AddGrant {
            bucket,
            key: Some(key),
            grant: (grantee, permission),
            next,
            done: None,
        }
    }
}

impl Flow for AddGrant {
    type Output = ();

    fn poll(&mut self) -> Step<()> {
        if let Some(done) = self.done.take() {
            return Step::Done(done);
        }
        match self.next.take() {
            Some(call) => Step::Send(Job::call(0, call)),
            None => Step::Done(Err(super::unexpected())),
        }
    }

    fn handle(&mut self, _id: u32, sent: Sent<Reply>) {
        let (grantee, permission) = self.grant.clone();
        match (sent.result, &self.key) {
            (Ok(Reply::GetBucketAcl(acl)), None) => {
                let op = PutBucketAcl::add_grant(self.bucket.clone(), acl, grantee, permission);
                self.next = Some(op.into());
            }
            (Ok(Reply::GetObjectAcl(acl)), Some(key)) => {
                let (bucket, key) = (self.bucket.clone(), key.clone());
                let op = PutObjectAcl::add_grant(bucket, key, acl, grantee, permission);
                self.next = Some(op.into());
            }
            (Ok(Reply::PutBucketAcl(()) | Reply::PutObjectAcl(())), _) => self.done = Some(Ok(())),
            (Ok(_), _) => self.fail(super::unexpected()),
            (Err(e), _) => self.fail(e),
        }
    }

    fn fail(&mut self, error: Error) {
        self.done = Some(Err(error));
    }
}
